"""Number and boolean settings are checked at start against the type of their default."""

import pytest
from scrapy.settings import Settings

from crawlers.errors import InputError
from crawlers.typed_settings import check_settings, typed_defaults
from settings import base


def test_the_defaults_and_well_typed_overrides_pass():
    check_settings(Settings({name: value for name, value in vars(base).items() if name.isupper()}))
    check_settings(Settings({"WARC_MAX_SIZE": "5000000", "ITEMS_GZIP": "true", "WARC_MAX_AGE": "1.5"}))
    kinds = typed_defaults()
    assert (kinds["WARC_MAX_SIZE"], kinds["ITEMS_GZIP"], kinds["ITEMS_MAX_ERROR_RATE"]) == (int, bool, float)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WARC_MAX_SIZE", "10GB", "setting WARC_MAX_SIZE='10GB': expected a number"),
        ("ITEMS_GZIP", "maybe", "setting ITEMS_GZIP='maybe': expected true or false"),
        ("NEWSVAULT_PROGRESS_INTERVAL", "1m", "setting NEWSVAULT_PROGRESS_INTERVAL='1m': expected a number"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_setting(name, value, expected):
    with pytest.raises(InputError) as raised:
        check_settings(Settings({name: value}))
    assert str(raised.value) == expected
