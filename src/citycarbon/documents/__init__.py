"""Documents the platform writes for people to read on paper: official documents (GB/T 9704) as DOCX
(:mod:`.gbt9704`) and PDF (:mod:`.gbt9704_pdf`, WeasyPrint imported lazily), the XLSX annex (:mod:`.annex`) and
server-side charts as PNG (:mod:`.charts`, matplotlib Agg); fonts found through fontconfig (:mod:`.fonts`).

A rendering package: plain values in, bytes out; no database, no HTTP, no network access."""
