"""The ZIP-code zone table shipped with the code (domain/data/zip_zones.txt) is the `zipcodes`
package's list, so an upgrade of the package that moves a ZIP to another zone fails here until
the table is regenerated (`python -m domain.rules.zip_table --write`)."""

from __future__ import annotations

from zoneinfo import available_timezones

from domain.rules import zip_table
from domain.rules.zones import zone_for_zip


def test_the_shipped_table_is_the_zipcodes_package_s_list() -> None:
    known = available_timezones()
    assert zip_table.TABLE.read_text() == zip_table.generate(known.__contains__)


def test_split_states_and_territories_come_from_the_table() -> None:
    assert zone_for_zip("79901") == "America/Denver"  # El Paso, in Central-time Texas
    assert zone_for_zip("75201") == "America/Chicago"  # Dallas
    assert zone_for_zip("00501") == "America/New_York"  # the lowest ZIP in the list
    assert zone_for_zip("96910") == "Pacific/Guam"
    assert zone_for_zip("99950") == "America/Sitka"  # the highest (Ketchikan)


def test_an_unknown_or_malformed_zip_has_no_zone() -> None:
    for zip_code in ("00000", "99999", "9410", "941030", "9410a", ""):
        assert zone_for_zip(zip_code) is None
