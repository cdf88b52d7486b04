"""Fact collectors (see :mod:`citycarbon.services.assessment.facts`); filled by issue 16."""
