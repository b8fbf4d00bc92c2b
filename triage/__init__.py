"""triage: score customer-support messages and keep a fair, explainable queue for humans."""

from triage.errors import TriageError
from triage.heads import DEFAULT_HEADS
from triage.scoring import Score, Scorer
from triage.settings import Settings

__version__ = "0.1.0"

__all__ = ["DEFAULT_HEADS", "Score", "Scorer", "Settings", "TriageError", "__version__"]
