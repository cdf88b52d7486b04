"""Projects: the project gate (issue 15), pure domain."""
