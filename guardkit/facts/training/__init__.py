"""Fine-tune the fact embedder for retrieval: (query, relevant passage) pairs, in-batch negatives.

The bundled all-MiniLM-L6-v2 was trained for general sentence similarity; a claim and the
sentence that supports or refutes it are often less alike than two paraphrases. A short
contrastive stage on such pairs (each query's own passage against every other passage in the
batch and mined hard negatives) teaches the embedder what "relevant evidence" means in a domain.
The result is an embedder folder like the shipped one (int8 ONNX, manifest with a ``training``
record); an index built with it records its id and refuses any other embedder.
"""

from guardkit.facts.training.loop import EmbedderTrainConfig, train_embedder
from guardkit.facts.training.pairs import RetrievalPair, mine_negatives, read_pairs

__all__ = [
    "EmbedderTrainConfig",
    "RetrievalPair",
    "mine_negatives",
    "read_pairs",
    "train_embedder",
]
