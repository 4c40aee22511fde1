"""The form engine: JSON form definitions, field types, linkage and formulas, record
validation, versions and Excel. Nothing here knows any particular business form."""

from engine.forms.loading import check_form, load_form
from engine.forms.model import FormDefinition, definition_json_schema

__all__ = ["FormDefinition", "check_form", "definition_json_schema", "load_form"]
