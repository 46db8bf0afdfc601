"""Human oversight of flagged outputs."""

from guardkit.review.queue import ReviewItem, ReviewQueue

__all__ = ["ReviewItem", "ReviewQueue"]
