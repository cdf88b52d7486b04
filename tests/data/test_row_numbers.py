"""Every reader names the spreadsheet row (issue 14, gaps of issue 13): the header is row 1, so the first data
row is row 2, and a file's ``#`` banner lines count too — factor files, sink parameter files, the monitoring
registry, and the monthly and district checks of the seeded reference data."""

from __future__ import annotations

import pytest

from citycarbon.data import read_csv_file
from citycarbon.errors import InputError
from citycarbon.factors import FactorTable
from citycarbon.importers.schemas import numbered
from citycarbon.monitoring.registry import load_registry
from citycarbon.sinks import load_forest_parameters
from citycarbon.tracking.districts import check_districts
from citycarbon.tracking.nowcast import check_monthly
from tests.data.test_factors import good_row, write_factor_file

BANNER = "# a source line\n# a second banner line\n"
PARAM_HEADER = ("param_id,forest_type,parameter,value,unit,range_low,range_high,range_unit,source,document,year,"
                "status,flag,notes\n")
GOOD_PARAM = "A,average,svd,0.5,t/m**3,,,,s,d,2005,unverified,UNVERIFIED,\n"


def test_a_factor_files_bad_value_names_its_line(tmp_path):
    path = write_factor_file(tmp_path / "office.csv", [good_row(), good_row(factor_id="office.b", value="x")])
    with pytest.raises(InputError) as info:
        FactorTable.load(extra=[path])
    # line 1 banner, line 2 header, line 3 the first factor, line 4 the bad one
    assert (info.value.first.row, info.value.first.field) == (4, "value")
    assert path.read_text(encoding="utf-8").splitlines()[3].startswith("office.b,")


def test_a_sink_parameter_files_bad_value_names_its_line(tmp_path):
    path = tmp_path / "forest_parameters.csv"
    path.write_text(BANNER + PARAM_HEADER + GOOD_PARAM + GOOD_PARAM.replace("A,", "B,").replace("0.5", "half"),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_forest_parameters(path)
    assert (info.value.first.row, info.value.first.field) == (5, "value")  # 2 banner lines, header, row 4 good


def test_a_registry_files_bad_code_names_its_line(tmp_path):
    path = tmp_path / "enterprises.csv"
    path.write_text(BANNER + "enterprise_id,name,uscc,industry_code,region,tier\n"
                    "E1,测试,91210211MA0TE7T01X,3011,210211,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(path)
    assert (info.value.first.file, info.value.first.row, info.value.first.field) == ("enterprises.csv", 4, "uscc")


def test_monthly_and_district_checks_name_the_files_line(tmp_path):
    monthly = tmp_path / "monthly.csv"
    monthly.write_text(BANNER + "year,month,region,variable,value,unit,status,source\n"
                       "2020,1,210200,electricity_consumption_kwh,1.0,kWh,estimate,x\n"
                       "2020,13,210200,electricity_consumption_kwh,1.0,kWh,estimate,x\n", encoding="utf-8")
    frame = read_csv_file(monthly)
    assert frame.attrs["first_row"] == 4
    with pytest.raises(InputError) as info:
        check_monthly(numbered(frame, frame.attrs["first_row"]), "monthly.csv")
    assert (info.value.first.row, info.value.first.field) == (5, "month")
    districts = tmp_path / "districts.csv"
    districts.write_text("year,region,variable,target_id,value,unit,status,source\n"
                         "2020,210202,energy_share,,1.0,dimensionless,estimate,x\n"
                         "2020,210299,gdp_share,,1.0,dimensionless,estimate,x\n", encoding="utf-8")
    raw = read_csv_file(districts, dtype={"region": str, "target_id": str})
    with pytest.raises(InputError) as info:
        check_districts(numbered(raw, raw.attrs["first_row"]), "210200", "districts.csv")
    assert (info.value.first.row, info.value.first.field) == (3, "region")
