"""Training data: corpus sources and the ledger of every item (layer 3)."""
