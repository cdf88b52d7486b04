"""The yearly reports (issue 16): the city's 贯彻落实情况 report to 市委/市政府 (DOCX, PDF, XLSX annex) and
each district's and department's own report, pre-filled from its filings and figures, narrative editable,
compiled into the city's.

Modules:

* :mod:`.content`    the report's content model for a year (``citycarbon.documents.gbt9704.OfficialDocument``
                     blocks, the XLSX annex's ``Sheet``\\ s, the headline figures, the provenance appendix):
                     targets and warnings, energy and CO2 accounts, sinks, key-unit monitoring coverage, task
                     progress, projects, assessment results, problems and next year's work;
* :mod:`.narratives` the editable narrative sections (city and unit drafts), versioned and audited;
* :mod:`.generate`   generation as a background job with progress; each document stored with its ledger
                     version and inputs hash (regenerating from the same version gives the same figures);
                     listing and download.

Who may do what: generate the city's report and edit its narrative: ``can_generate_reports`` (the office,
analysts with write access); download the city's report: ``can_read_city_report`` (every role but enterprise
users); a unit's report: the unit itself (``acts_for_org``; edit: ``can_file_for``) and the office/analysts.
"""
