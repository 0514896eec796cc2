"""Base classes for the API's input serializers."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.utils import html


class ObjectInput:
    """For a serializer of a request body that must be a JSON object: a clear message otherwise.

    DRF's own message for `null` would be "This field may not be null.", which names no field.
    """

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Request body must be a JSON object"]},
                code="invalid",
            )
        return super().run_validation(data)


class ObjectInputSerializer(ObjectInput, serializers.Serializer):
    pass


class StringOnly:
    """For a CharField (or subclass): refuse JSON numbers and booleans, which DRF would turn
    into strings ("123"). A name given as a number is a client's mistake, not a name."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StringOnly, serializers.CharField):
    pass


class StrictEmailField(StringOnly, serializers.EmailField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """JSON's `true` or `false` only: DRF would also read 0, 1, "yes", "off" and the like as
    booleans, which the API's contract (and its OpenAPI document) does not admit. A form's
    strings (the browsable API's checkboxes) are still read as DRF reads them."""

    def to_internal_value(self, data):
        if not isinstance(data, bool) and not html.is_html_input(self.root.initial_data):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)
