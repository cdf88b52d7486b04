"""Online monitoring of key energy-using units (重点用能单位能耗在线监测), methods.md §5.

Pure domain modules (frames in, frames out): :mod:`.registry` (enterprises, points, products; USCC check in
:mod:`.uscc`), :mod:`.simulate` (synthetic cities with the truth of their faults), :mod:`.quality` (data-quality
rules as data, national indicators, repairs), :mod:`.alerts` (budget path, product limits, data-quality
breaches; the monthly feed of the tracking nowcast). The meter lake, ingest and rollups (:mod:`.lake`,
:mod:`.ingest`, :mod:`.rollup`) store and aggregate readings. Submodules are imported where used, so importing
the package stays cheap.
"""
