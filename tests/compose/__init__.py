"""Tests of `bandmate.compose`."""
