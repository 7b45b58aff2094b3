"""Rights and provenance: originality checks against the training data, provenance manifests,
embedded tags and content credentials."""
