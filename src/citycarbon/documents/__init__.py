"""Documents the platform writes for people to read on paper: official documents (GB/T 9704) as DOCX.

A rendering package: plain values in, bytes out (python-docx); no database, no HTTP."""
