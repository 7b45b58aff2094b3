"""One tokenizer interface for every model representation.

A tokenizer turns a piece (a Score, or for chorales a list of SATB steps) into a list of integer
tokens and back. Its vocabulary is data: `to_dict()` returns everything needed to rebuild it
(kind, settings, the token names), `Tokenizer.from_dict()` rebuilds it, and models save that dict
beside their weights, so a checkpoint never depends on code defaults that may change.

Subclasses set `kind` and implement `encode`, `decode`, `token_names` and `settings`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

# special tokens every vocabulary starts with, in this order
PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")


class Tokenizer(ABC):
    kind: ClassVar[str]
    _registry: ClassVar[dict[str, type[Tokenizer]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "kind", None):
            Tokenizer._registry[cls.kind] = cls

    @abstractmethod
    def encode(self, piece) -> list[int]:
        """Tokens for `piece`, starting with BOS and ending with EOS."""

    @abstractmethod
    def decode(self, tokens: list[int]):
        """The piece that `tokens` describe (special tokens are skipped)."""

    @abstractmethod
    def token_names(self) -> list[str]:
        """A readable name per token id; index = id; the first three are SPECIALS."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this tokenizer."""

    @abstractmethod
    def pitch_token_ids(self) -> dict[int, int]:
        """MIDI pitch -> the id of its token, for samplers that constrain pitches (drums: the GM
        note of each voice -> its DRUM token)."""

    @property
    def vocab_size(self) -> int:
        return len(self.token_names())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "settings": self.settings(), "tokens": self.token_names()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Tokenizer:
        """Rebuild a tokenizer saved with `to_dict`; its token list must match exactly.

        The tokenizer of kind K lives in `bandmate.tokens.K`, imported here on first use.
        """
        kind = data["kind"]
        if kind not in Tokenizer._registry:
            importlib.import_module(f"bandmate.tokens.{kind}")
        cls = Tokenizer._registry[kind]
        tokenizer = cls(**data["settings"])
        if tokenizer.token_names() != list(data["tokens"]):
            raise ValueError(f"saved {data['kind']} vocabulary differs from this version's")
        return tokenizer
