"""Service functions shared by the CLI (and later the API): load inputs, call the pure domain code,
return results with provenance. No presentation here and no domain logic either."""
