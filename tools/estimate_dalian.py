#!/usr/bin/env python
"""Write the Dalian (大连市, GB/T 2260 210200) reference dataset 2015–2024.

Build tool, not part of the package. It writes ``src/citycarbon/data/dalian/*.csv`` from

* ANCHORS: public figures, each with its source (``/work/shared/reference/methods.md`` §7.1 and §8; the
  flags V / V* / UNVERIFIED there map to the ``status`` column as official / secondary / unverified), and
* ASSUMPTIONS: estimates, each stated with its reasoning and a rule id that ``data/dalian/README.md``
  documents. Rows built from assumptions carry ``status = estimate`` and ``source = "citycarbon estimate:
  <rule id>"``.

The script is deterministic: the same code writes the same bytes (``python tools/estimate_dalian.py --out
DIR`` into an empty folder and compare). ``--report`` prints the calibration checks (total energy
consumption by the coal-equivalent method, intensity path, non-fossil share) that the anchors constrain;
the script refuses to write files that break them.

Methods: energy balance in the NBS 能源平衡表 layout (flows/sectors/fuels from the codelists); standard-coal
coefficients GB/T 2589-2020 Annex A (methods.md §1.2); primary electricity by 发电煤耗法 (methods.md §3);
原料用能 as ``non_energy_use`` (发改环资〔2022〕803号).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import date
from itertools import pairwise
from pathlib import Path

from citycarbon.units import conversion_factor

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "citycarbon" / "data" / "dalian"

REGION = "210200"
YEARS = tuple(range(2015, 2025))
BANNER = ("# Dalian (大连市, 210200) reference dataset 2015-2024. Written by tools/estimate_dalian.py; "
          "sources and estimation rules in README.md next to this file. Do not edit by hand: change the "
          "script or import the statistics bureau's tables.")


def est(rule: str) -> str:
    """The ``source`` text of a row built from an assumption (rule ids are documented in README.md)."""
    return f"citycarbon estimate: {rule}"


# =====================================================================================================
# ANCHORS: public figures (methods.md §7.1, §8, §8.0a). status: official = a statistics bureau or
# government figure; secondary = press / company / V* figure; unverified = recalled, not confirmed.
# =====================================================================================================

SRC_BULLETIN_2023 = ("大连市2023年国民经济和社会发展统计公报 (mirror m.xiaomonv0755.com/tjgb/06ln/37949.html; "
                     "methods.md §8)")
SRC_GDP_2024 = ("大连市统计局 2024 preliminary GDP via China News Service 2025-01-20 "
                "(av069.com/cj/jjgc/2025-01-20/1538731.html; methods.md §8)")
SRC_HONGYANHE_2018 = "Liaoning Daily repost tw.bg3.co: Hongyanhe 2018 on-grid 28.27 TWh, +29.3% (methods.md §8)"
SRC_HONGYANHE_UNITS = ("Hongyanhe units 6 x 1118.79 MWe, commissioning dates: cbminfo.com; yc.xinxuanze.com.cn; "
                       "CNEA 2019 blue book p.81 (methods.md §8)")
SRC_FOREST_STOCK = ("chinadevelopment.com.cn/news/ny/2021/09/1742501.shtml: forest stock 12.80 -> 15.604 million m3 "
                    "2015 -> 2020 (methods.md §7.1)")
SRC_FOREST_COVER = ("Liaoning Daily 2020-05-14 epaper.lnd.com.cn/lnrbepaper/pc/con/202005/14/content_71434.html: "
                    "coverage 41.5%, forest land 504 600 ha (methods.md §7.1)")
SRC_WETLAND = ("Liaoning Daily 2020-05-14 epaper.lnd.com.cn (content_71434): wetland 358 300 ha, natural 254 000, "
               "artificial 104 300 (methods.md §7.1); one survey for every year, the 2025 total of 245 500 ha "
               "(another survey) is not mixed in")
#: dalian-statistics.md = /work/shared/reference/dalian-statistics.md (public figures 2015-2025, flags V / V*)
SRC_EN_SITUATION_2017 = ("en.dl.gov.cn/art/2020/2/11/art_1306_321535.html 'Overall situation in Dalian' (Dalian govt "
                         "English site; labelled 2018, the figures are the 2017 bulletin's; "
                         "dalian-statistics.md §1, §7)")
SRC_GDP_2018 = "Sohu report reposted at lcaj.net/fangchan/06207972.html (2020-06-20) (dalian-statistics.md §1)"
SRC_GDP_2022 = "hiraitr.com 2023-02-10 citing the bureau's release of 2023-02-01 (dalian-statistics.md §1)"
SRC_POP_2022 = "大连市2022年统计公报 as quoted by hbzqbyyxgs.com/news/2jkNMTcz.html (dalian-statistics.md §1)"
SRC_POP_2015 = "so.51tietu.net (undated listing; weak) (dalian-statistics.md §1)"
SRC_CENSUS = ("第七次全国人口普查 Dalian results released 2021-06-08: 7 450 785 on 2020-11-01 "
              "(reposts blob.wenxiaobai.com, "
              "daluzixun.com; dalian-statistics.md §1)")
SRC_HONGYANHE_ONGRID = {
    2015: "CNS 2016-01-20 via ces.cn/news/show-102683.html: Hongyanhe on-grid 125.91 亿kWh (dalian-statistics.md §2)",
    2018: SRC_HONGYANHE_2018,
    2019: ("China Daily Dalian 2020-01-17 via shenyang.baogaosu.com: Hongyanhe on-grid 307.64 亿kWh, +8.82% "
           "(dalian-statistics.md §2)"),
    2022: ("ecns.cn/business/2023-01-17/detail-ihcivkeu5244702.shtml: Hongyanhe on-grid 419 亿kWh, +12.5%, 93.5% of "
           "Dalian's consumption (dalian-statistics.md §2)"),
    2024: ("CNS 2025-01-24 via qwkj888.com/kuangye/8hpZ.html: Hongyanhe on-grid 482.7 亿kWh, +2.54%, about 98% of "
           "Dalian's 全社会用电量 (dalian-statistics.md §2)"),
}
SRC_FOREST_COVER_2016 = ("《绿色中国》2016 no. 11 via victorzhang.cn/page/2017/0107/504986.shtml: "
                         "forest coverage 41.5% (dalian-statistics.md §4)")
SRC_RECALLED_BULLETIN = "大连市国民经济和社会发展统计公报 {year} (recalled, not retrieved; first-published value)"
SRC_CENSUS_2020 = "第七次全国人口普查 大连市公报 2020-11-01 resident population (recalled, not retrieved)"

#: GDP at current prices, 10^8 CNY (亿元). 2023 and 2024 are V (methods.md §8); the others are the values
#: first published in the yearly bulletins as recalled (UNVERIFIED). 2016 follows Liaoning's 2016 data
#: revision and 2019 the fourth economic census, so the current-price series has breaks before 2016 and
#: before 2019; growth rates below are on a comparable basis (the bulletin's own real growth).
GDP_CURRENT = {2015: 7731.6, 2016: 6810.2, 2017: 7363.9, 2018: 7668.5, 2019: 7001.7, 2020: 7030.4,
               2021: 7825.9, 2022: 8430.9, 2023: 8752.9, 2024: 9516.9}
#: real GDP growth on the previous year, % (bulletins; 2023 +6.0 % and 2024 +5.2 % V, others recalled)
GDP_REAL_GROWTH = {2016: 6.5, 2017: 7.1, 2018: 6.5, 2019: 6.5, 2020: 0.9, 2021: 8.2, 2022: 4.0,
                   2023: 6.0, 2024: 5.2}
#: sector GDP at current prices, 10^8 CNY (V): (primary, secondary, tertiary)
GDP_SECTORS_OFFICIAL = {2017: (477.1, 3052.6, 3834.3), 2023: (595.9, 3715.3, 4441.7),
                        2024: (585.7, 3349.0, 5582.2)}
#: status and source of the current-price GDP rows that are not recalled (V -> official, V* -> secondary)
GDP_SOURCES = {2017: ("official", SRC_EN_SITUATION_2017), 2018: ("secondary", SRC_GDP_2018),
               2022: ("secondary", SRC_GDP_2022), 2023: ("official", SRC_BULLETIN_2023),
               2024: ("official", SRC_GDP_2024)}
#: tertiary share of GDP (V: chinadevelopment.com.cn 2021-09-07, 13th FYP results)
TERTIARY_SHARE_ANCHOR = {2015: 0.508, 2020: 0.536}
#: resident population, 10^4 persons, year-end. 2023 V (bulletin); 2020 census (recalled); 2015-2019 as
#: recalled from the bulletins (about 699万 before the census revision)
POPULATION_OFFICIAL = {2023: 753.9}
POPULATION_RECALLED = {2015: 698.7, 2016: 698.8, 2017: 699.3, 2018: 698.7, 2019: 699.9, 2020: 745.1}
#: reported (V*) population: 2015 (weak listing), 2020 census (7 450 785 -> 745.1), 2022 year end (bulletin quoted)
POPULATION_REPORTED = {2015: (698.7, SRC_POP_2015), 2020: (745.1, SRC_CENSUS), 2022: (753.1, SRC_POP_2022)}
#: 2021: 2022 year-end population over its reported growth of +0.6 % (dalian-statistics.md §1, derived)
POPULATION_GROWTH_2022 = 0.006

#: Hongyanhe: unit size (MWe, V) and commercial-operation dates. U1, U2 and U6 V; U3 and U4 recalled, consistent
#: with "all four commercial by Sept 2016" (V); U5 recalled (2021, as stated in the brief from methods.md).
HONGYANHE_UNIT_MW = 1118.79
HONGYANHE_COD = (date(2013, 6, 6), date(2014, 5, 13), date(2015, 8, 16), date(2016, 9, 19),
                 date(2021, 7, 31), date(2022, 6, 23))
HONGYANHE_2018_TWH = 28.27  # V, on-grid
HONGYANHE_2018_GROWTH = 0.293  # V, +29.3 % on 2017
HONGYANHE_2018_SHARE_OF_DALIAN_USE = 0.877  # V: 87.7 % of Dalian's 2018 electricity use
#: Hongyanhe on-grid output (上网电量), TWh, V* (dalian-statistics.md §2). Every nuclear row of the balance is on
#: this on-grid basis (§7: "use one basis throughout").
HONGYANHE_ONGRID_TWH = {2015: 12.591, 2018: HONGYANHE_2018_TWH, 2019: 30.764, 2022: 41.9, 2024: 48.27}
#: year-on-year growth published with the anchors (V*): 2022 +12.5 % on 2021, 2024 +2.54 % on 2023
HONGYANHE_GROWTH = {2022: 0.125, 2024: 0.0254}
#: Hongyanhe's share of Dalian's 全社会用电量 published with the anchors (V*): 2022 93.5 %, 2024 about 98 %
HONGYANHE_SHARE_OF_DALIAN_USE = {2018: HONGYANHE_2018_SHARE_OF_DALIAN_USE, 2022: 0.935, 2024: 0.98}
#: 全社会用电量 2023: 469 亿kWh (V*, provincial NPC deputy, hnxgsz.com/news/show-1647578.html)
ELECTRICITY_USE_2023_TWH = 46.9

#: end-2022 installed capacity (V*): total 15.165 GW, clean share 59.8 %
CAPACITY_TOTAL_2022_MW = 15165.0
CAPACITY_CLEAN_SHARE_2022 = 0.598
#: end-2023 installed capacity (V*): 1 564 万kW, non-fossil 61 %; capacity added 2021-2023: 431 万kW (V*)
CAPACITY_TOTAL_2023_MW = 15640.0
CAPACITY_ADDED_2021_2023_MW = 4310.0

#: forest (V): stock 2015 and 2020 (m3); coverage and forest land ~2020; plan target 2025 (V*, plan text)
FOREST_STOCK = {2015: 12.80e6, 2020: 15.604e6}
FOREST_STOCK_TARGET_2025 = 17.0e6
FOREST_COVERAGE_2020 = 0.415
#: 林地 (forest land) 504 600 ha, the figure published beside the coverage. It is NOT the forest area (森林面积)
#: behind the coverage rate: 41.5 % of the land area (data/sinks/land_area.csv) is about 521 800 ha. Kept for
#: the README and the anchors table; the dataset's forest_area is coverage x land area (FOREST-AREA).
FOREST_LAND_2020_HA = 504600.0
#: land area of Dalian, km2 (data/sinks/land_area.csv LA-210200, the sinks' denominator of coverage)
LAND_AREA_KM2 = 12574.0
#: wetland (V, ~2020): total, natural and artificial, ha
WETLAND_NATURAL_HA = 254000.0
WETLAND_ARTIFICIAL_HA = 104300.0

#: 规上工业综合能源消费量 16 Mtce, -6.35 %, and central heating area 149.75 million m2, +2.3 % (V,
#: en.dl.gov.cn): labelled "2018" on the English site, whose "2018" pages carry the 2017 bulletin's figures
#: (dalian-statistics.md §7), so both are used as 2017 values. Used for calibration and heat demand.
INDUSTRY_YEAR = 2017
INDUSTRY_MTCE = 16.0
HEATING_AREA_YEAR = 2017
HEATING_AREA_MM2 = 149.75
HEATING_AREA_GROWTH = 0.023

# GB/T 2589-2020 Annex A coefficients (methods.md §1.2, V), kgce per kg / m3 / MJ; naphtha, petroleum coke
# and other petroleum products are NBS conversion-table values (UNVERIFIED; the same values as
# data/factors/standard_coal.csv). Used to size fuels from tce and for the calibration report only.
#: energy-intensity anchors (dalian-statistics.md §2): 2016-2018 cumulative -13 % with +205 万tce of energy
#: consumption (V*, 市发改委 via dljrw.com); 13th FYP 2015->2020 "more than -20 %" (V, chinadevelopment.com.cn);
#: 2020->2023 "-13 % or more" (V, 2024 municipal work report). The work reports give the assessment metric
#: (price basis and exclusions not stated); the dataset meets them on its full total (coal-equivalent method,
#: feedstock and all renewables included), the stricter reading. See EB-CAL.
INTENSITY_CHANGE_2015_2018 = -0.13
TEC_INCREASE_2015_2018_MTCE = 2.05
INTENSITY_CHANGE_2015_2020_MAX = -0.20
INTENSITY_CHANGE_2020_2023_MAX = -0.13

KGCE = {"raw_coal": 0.7143, "coke": 0.9714, "crude_oil": 1.4286, "fuel_oil": 1.4286, "gasoline": 1.4714,
        "kerosene": 1.4714, "diesel": 1.4571, "lpg": 1.7143, "refinery_gas": 1.5714, "natural_gas": 1.33,
        "naphtha": 1.5, "petroleum_coke": 1.0918, "other_petroleum_products": 1.4286, "heat": 0.03412}

# =====================================================================================================
# ASSUMPTIONS (status estimate). Each block names its rule id (README.md) and its reasoning.
# =====================================================================================================

# GDP-SPLIT: primary share of GDP, 2015 ~5.9 % (bulletin, recalled) and 2020 6.6 %, linear in between; from
# 2020 to 2023 linear to the official 2023 share. Tertiary share linear between the V anchors 2015/2020 and
# the official 2023 share. Secondary = GDP - primary - tertiary.
PRIMARY_SHARE_ANCHOR = {2015: 0.059, 2020: 0.066}
# GDP-CONST: the 2015->2020 GDP deflator, needed to express the comparable-basis real series at 2015 prices.
# National GDP deflator 2015->2020 (NBS: nominal 101.36/68.89 trillion over the real index 1.320) = 1.115;
# Dalian's own is unknown because its current-price series breaks in 2016 and 2019.
DEFLATOR_2015_TO_2020 = 1.115
# POP: 2021-2022 linear between the 2020 census and the 2023 bulletin; 2024 +0.3 % (recent net inflow).
POPULATION_GROWTH_2024 = 0.003

# CAP-*: installed capacity at year end, MW. Wind/solar split is UNVERIFIED in methods.md; these paths are
# chosen so that (a) the end-2022 total is 15 165 MW with 59.8 % clean (V*), coal being the residual,
# (b) the Q1-Q3 2024 clean capacity share is about 61 % (V) and clean generation about 74 % (V), and
# (c) 2024 reflects the projects named online in 2024 (Zhuanghe IV2/V offshore, Zhaotun II and Pulandian I
# onshore, tidal-flat PV; V).
# Wind (CAP-WIND, dalian-statistics.md §3, V*): mid-2022 182 万kW = onshore 77 + offshore 105; offshore = Three
# Gorges Zhuanghe 300 MW (commercial from 2019-01-19) + Datang Zhuanghe I 100 MW and Huaneng Zhuanghe II + IV1
# 650 MW (full grid end-2021); 2024 adds Zhuanghe IV2 and V (size not published: 500 MW assumed). Onshore: nothing
# added between end-2021 and mid-2022; the 2022 batch (5 projects, 120 万kW, due end-2023) enters partly in 2023
# (what the end-2023 V* total leaves room for) and with Xietun, Zhaotun II and Pulandian I in 2024.
CAPACITY_MW = {
    #                2014  2015  2016  2017  2018  2019  2020  2021  2022  2023  2024
    "wind_onshore": (650, 680, 700, 720, 740, 760, 770, 770, 770, None, 1970),
    "wind_offshore": (0, 0, 0, 0, 0, 300, 300, 1050, 1050, 1050, 1550),
    "solar_utility": (20, 50, 90, 130, 160, 190, 210, 230, 240, 290, 450),
    "solar_distributed": (3, 10, 30, 60, 80, 100, 120, 150, 170, 210, 300),
    "biomass": (60, 60, 60, 80, 80, 100, 100, 110, 110, 110, 110),
    "hydro": (16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16),
    "gas": (50, 50, 50, 50, 50, 50, 50, 200, 200, 200, 200),
    # coal: None where it is solved from a V* total (CAP-TOTAL): end-2019/2020 from the 2021-2023 additions,
    # 2021 on from the end-2022 total and clean share (Hengli's captive CHP units in by 2021)
    "coal": (5200, 5200, 5200, 5200, 5200, None, None, None, None, None, None),
    "pumped_storage": (0,) * 11,  # Zhuanghe 1 000 MW under construction since 2022-09-08 (V), not operating
}
CAPACITY_YEARS = (2014, *YEARS)
# CAP-NUC: nuclear = 1 118.79 MW x units in commercial operation at 31 December.

# EB-GEN: full-load hours of generation (h/yr, net of own use): Liaoning wind curtailment in 2015-2016,
# offshore ~2 800 h, PV 1 300 h utility / 1 100 h rooftop, biomass and waste-to-energy 5 500 h, small hydro
# 2 000 h, gas CHP 2 500 h; coal hours fall as nuclear and wind grow (Liaoning thermal ~4 300 h in 2015).
HOURS_WIND_ONSHORE = {2015: 1850, 2016: 1900, 2017: 2050, 2018: 2200, 2019: 2250, 2020: 2200, 2021: 2300,
                      2022: 2250, 2023: 2300, 2024: 2250}
HOURS = {"wind_offshore": 2800, "solar_utility": 1300, "solar_distributed": 1100, "biomass": 5500,
         "hydro": 2000, "gas": 2500}
HOURS_COAL = {2015: 4300, 2016: 4200, 2017: 4200, 2018: 4300, 2019: 4100, 2020: 3900, 2021: 3700,
              2022: 3300, 2023: 3400, 2024: 3200}
# EB-NUC: Hongyanhe on-grid output. Anchor years as published (V*); 2017, 2021 and 2023 derived from the
# published growth rates (2018 +29.3 %, 2022 +12.5 %, 2024 +2.54 %); 2016 and 2020 = unit-hours in commercial
# operation x 1 118.79 MW x an on-grid capacity factor (2016 0.55, Liaoning's curtailment of nuclear between
# 2015's 0.53 and 2017's 0.62; 2020 0.80, as 2019's 0.785).
NUCLEAR_CF = {2016: 0.55, 2020: 0.80}

# EB-ELEC: 全社会用电量 = final consumption + grid losses + power plants' own use (厂用电). Anchors: 2018 = 28.27 /
# 87.7 %, 2022 = 41.9 / 93.5 %, 2024 = 48.27 / 98 % (derived from V*), 2023 = 46.9 TWh (V*). Other years by
# growth on the previous year (%): 2016-2017 backwards from 2018 (2015 then stays below the "over 40 %" bound of
# 31.5 TWh); 2019-2021 carry Hengli's start (May 2019) and full load (2021) up to the 2022 anchor.
ELEC_GROWTH_BEFORE_2018 = {2016: 2.5, 2017: 3.0, 2018: 3.5}
#: shares of the 2018->2022 rise taken by 2019, 2020, 2021 and 2022 (log growth)
ELEC_RISE_SHARES_2019_2022 = {2019: 0.22, 2020: 0.08, 2021: 0.40, 2022: 0.30}
# EB-OWNUSE-ELEC: power plants' own use (厂用电) as a share of on-grid output: nuclear 7 % (PWR), coal 6.5 %,
# gas CHP 3 %, others nil (their full-load hours are net). Booked as transformation input of electricity to
# `power`: generation is on the on-grid basis, so the balance takes the own use from the grid and its net
# electricity outflow is that much smaller than the physical one.
OWN_USE_ELEC_SHARE = {"nuclear": 0.07, "coal": 0.065, "gas": 0.03}
# EB-LOSS: grid losses as a share of electricity consumed, 5.8 % (2015) falling linearly to 5.0 % (2024);
# heat-network losses 6 % of heat delivered to the network.
ELEC_LOSS_SHARE = (0.058, 0.050)
HEAT_LOSS_SHARE = 0.06

# EB-SECT: sector activity indices (2015 = 1) that scale final consumption of every fuel. Typical of a
# northern coastal city: petrochemical jumps with Hengli (2019-2020), building materials decline
# (cement), other industry falls in 2017 (规上工业 -6.35 %, V, the "2018" page's 2017 figure), services and
# transport dip in 2020 (COVID), construction shrinks with the property market from 2022.
ACTIVITY = {
    #                      2015  2016  2017  2018  2019  2020  2021  2022  2023  2024
    "petrochemical":      (1.00, 0.98, 0.97, 0.93, 1.10, 1.16, 1.30, 1.32, 1.38, 1.42),
    "steel":              (1.00, 0.95, 1.00, 1.02, 1.03, 0.98, 1.05, 1.00, 1.02, 1.00),
    "building_materials": (1.00, 0.96, 0.93, 0.88, 0.88, 0.85, 0.86, 0.78, 0.76, 0.72),
    "equipment":          (1.00, 1.03, 1.07, 1.10, 1.14, 1.12, 1.22, 1.25, 1.32, 1.38),
    "other_industry":     (1.00, 0.95, 0.86, 0.82, 0.80, 0.75, 0.77, 0.75, 0.76, 0.76),
    "agriculture":        (1.00, 1.01, 1.02, 1.02, 1.03, 1.03, 1.04, 1.05, 1.06, 1.06),
    "construction":       (1.00, 0.95, 0.93, 0.92, 0.95, 0.92, 0.95, 0.85, 0.82, 0.78),
    "transport":          (1.00, 1.04, 1.08, 1.12, 1.15, 0.92, 1.08, 1.00, 1.18, 1.22),
    "commercial":         (1.00, 1.04, 1.08, 1.12, 1.16, 0.95, 1.10, 1.04, 1.22, 1.28),
    "other_services":     (1.00, 1.05, 1.10, 1.15, 1.21, 1.12, 1.25, 1.28, 1.38, 1.45),
    "residential_urban":  (1.00, 1.02, 1.04, 1.06, 1.08, 1.10, 1.16, 1.19, 1.22, 1.25),
    "residential_rural":  (1.00, 0.99, 0.98, 0.97, 0.96, 0.97, 0.95, 0.94, 0.93, 0.92),
}
SECTORS = tuple(ACTIVITY)

# EB-ELEC-SPLIT: 2015 shares of final electricity by sector (sum 1) and a yearly electrification trend
# (transport: EVs and shore power; services and households: heat pumps, appliances).
ELEC_SHARE_2015 = {"petrochemical": 0.15, "steel": 0.04, "building_materials": 0.04, "equipment": 0.13,
                   "other_industry": 0.22, "agriculture": 0.02, "construction": 0.015, "transport": 0.03,
                   "commercial": 0.07, "other_services": 0.115, "residential_urban": 0.13,
                   "residential_rural": 0.04}
ELEC_TREND = {"transport": 0.06, "residential_urban": 0.02, "commercial": 0.02, "other_services": 0.03}

# EB-FINAL: 2015 final consumption of the other fuels (physical units) and a compound yearly fuel-switching
# trend per fuel (coal out of boilers and households, gas in, gasoline down after 2021 with EVs).
# Units: 10^4 t (coal, oil products), 10^4 m3 (natural gas), tce (biomass, solar thermal, geothermal).
FINAL_2015 = {
    "raw_coal": {"petrochemical": 60, "steel": 10, "building_materials": 130, "equipment": 60,
                 "other_industry": 450, "agriculture": 15, "construction": 5, "commercial": 25,
                 "other_services": 20, "residential_urban": 5, "residential_rural": 55},
    "coke": {"steel": 8, "equipment": 4, "other_industry": 2},
    "natural_gas": {"petrochemical": 15000, "other_industry": 8000, "equipment": 5000,
                    "building_materials": 3000, "transport": 6000, "commercial": 6000, "other_services": 5000,
                    "residential_urban": 12000, "residential_rural": 200},
    "gasoline": {"transport": 85, "agriculture": 3, "construction": 2, "commercial": 3, "other_services": 6,
                 "residential_urban": 15, "residential_rural": 4},
    "diesel": {"transport": 75, "agriculture": 28, "construction": 12, "equipment": 3, "other_industry": 5,
               "commercial": 2, "residential_rural": 2},
    "kerosene": {"transport": 22},
    "fuel_oil": {"transport": 18},
    "lpg": {"commercial": 6, "residential_urban": 8, "residential_rural": 4, "transport": 1, "other_industry": 2},
    "biomass": {"residential_rural": 80000, "other_industry": 40000},
    "solar_thermal": {"residential_urban": 30000, "residential_rural": 30000, "other_services": 10000},
    "geothermal": {"other_services": 10000},
}
FINAL_UNIT = {"raw_coal": "10^4 t", "coke": "10^4 t", "natural_gas": "10^4 m3", "gasoline": "10^4 t",
              "diesel": "10^4 t", "kerosene": "10^4 t", "fuel_oil": "10^4 t", "lpg": "10^4 t",
              "biomass": "tce", "solar_thermal": "tce", "geothermal": "tce"}
#: yearly trend (fraction per year) by fuel, and by (fuel, sector) where the sector differs
FUEL_TREND = {"raw_coal": -0.03, "coke": -0.02, "natural_gas": 0.06, "gasoline": 0.015, "diesel": -0.01,
              "kerosene": 0.04, "fuel_oil": -0.03, "lpg": -0.02, "biomass": 0.05, "solar_thermal": 0.03,
              "geothermal": 0.12}
FUEL_SECTOR_TREND = {("raw_coal", s): -0.08 for s in ("commercial", "other_services", "residential_urban")}
FUEL_SECTOR_TREND.update({("raw_coal", "residential_rural"): -0.05, ("raw_coal", "other_industry"): -0.10,
                          ("raw_coal", "equipment"): -0.06, ("raw_coal", "petrochemical"): 0.0,
                          ("raw_coal", "building_materials"): -0.04})
#: gasoline: EVs take over growth from 2021 (-3.5 %/yr after 2021 on top of the trend)
GASOLINE_EV_CUT = (2021, -0.035)

# EB-HEAT: space heat = heating area (V 2017, +2.3 %/yr applied to every year) x 0.36 GJ/m2 (2015) falling to
# 0.31 GJ/m2 (2024, retrofits; Dalian's winters are mild for northern China); split among urban households
# 68 %, commercial 10 %, other services 20 %, rural households 2 %.
# Industrial steam from public networks (10^4 GJ, 2015) scales with the sector index.
HEAT_INTENSITY_GJ_M2 = (0.36, 0.31)
SPACE_HEAT_SPLIT = {"residential_urban": 0.68, "commercial": 0.10, "other_services": 0.20,
                    "residential_rural": 0.02}
STEAM_2015 = {"petrochemical": 600, "equipment": 200, "other_industry": 400, "building_materials": 50}
# EB-HEAT-SUPPLY: CHP share of network heat 55 % (2015) -> 62 % (2024); boilers supply the rest, gas share of
# boiler heat 5 % -> 20 % (coal-to-gas); boiler efficiency coal 78 %, gas 90 %; CHP heat charged at 86 %.
CHP_HEAT_SHARE = (0.55, 0.62)
BOILER_GAS_SHARE = (0.05, 0.20)
EFF_BOILER = {"raw_coal": 0.78, "natural_gas": 0.90}
EFF_CHP_HEAT = 0.86
# EB-POWER: plant coal rate for net electricity supply, kgce/kWh (Dalian units incl. CHP, 0.310 -> 0.300);
# gas CHP 0.232 kgce/kWh (about 53 % net efficiency).
COAL_RATE_PLANT = (0.310, 0.300)
GAS_RATE_PLANT = 0.232

# EB-REF: crude throughput by refinery, 10^4 t. PetroChina Dalian Petrochemical (capacity 20.5 Mt/yr)
# declining as its relocation is prepared; WEPEC (10 Mt/yr) steady; Hengli (20 Mt/yr, Changxing Island)
# from May 2019, full load from 2021. COVID dip in 2020.
CRUDE_THROUGHPUT = {
    #                  2015  2016  2017  2018  2019  2020  2021  2022  2023  2024
    "dalian_petrochem": (1900, 1850, 1800, 1700, 1650, 1400, 1550, 1500, 1550, 1500),
    "wepec":            (950, 950, 980, 980, 950, 850, 900, 900, 950, 900),
    "hengli":           (0, 0, 0, 0, 1000, 1600, 2000, 2050, 2150, 2200),
}
# EB-REF-YIELD: product yields (mass fraction of crude); the remainder (2 %) is loss (flare, H2S, water),
# which with GB/T 2589 / NBS coefficients is a 1-2 % energy loss. Hengli's aromatics (PX) and olefins
# are made inside its integrated refinery boundary and leave the energy balance as
# other_petroleum_products (chemical products shipped out), so only the naphtha and LPG sent to separate
# chemical units count as 原料用能 (see EB-NEU).
YIELDS = {
    "dalian_petrochem": {"gasoline": 0.21, "diesel": 0.29, "kerosene": 0.09, "fuel_oil": 0.05, "naphtha": 0.05,
                         "lpg": 0.04, "refinery_gas": 0.035, "petroleum_coke": 0.085,
                         "other_petroleum_products": 0.13},
    "wepec": {"gasoline": 0.21, "diesel": 0.30, "kerosene": 0.08, "fuel_oil": 0.06, "naphtha": 0.05, "lpg": 0.04,
              "refinery_gas": 0.035, "petroleum_coke": 0.085, "other_petroleum_products": 0.12},
    "hengli": {"gasoline": 0.12, "diesel": 0.10, "kerosene": 0.12, "fuel_oil": 0.03, "naphtha": 0.06, "lpg": 0.04,
               "refinery_gas": 0.04, "petroleum_coke": 0.07, "other_petroleum_products": 0.40},
}
REFINERY_MASS_LOSS = 0.02
# EB-CRUDE: crude arrives by sea (imports) except Dalian Petrochemical's pipeline crude from Daqing (30 %).
CRUDE_PIPELINE_SHARE_DALIAN_PETROCHEM = 0.30
# EB-OWNUSE: refinery own fuel (final consumption of petrochemical): all refinery gas, 35 % of petroleum
# coke (CFB boilers, FCC coke), 15 % of fuel oil.
OWN_USE = {"refinery_gas": 1.0, "petroleum_coke": 0.35, "fuel_oil": 0.15}
# EB-NEU: 原料用能: 60 % of Dalian Petrochemical's naphtha, 30 % of Hengli's (80 % from 2021, when its
# downstream chemical units in the city ramp up) and 25 % of all refinery LPG go to chemical units in the
# city as feedstock (non_energy_use of petrochemical); WEPEC is a fuels refinery.
NEU_NAPHTHA_SHARE = {"dalian_petrochem": 0.6, "wepec": 0.0, "hengli": 0.3}
NEU_NAPHTHA_SHARE_FROM_2021 = {"hengli": 0.8}
NEU_LPG_SHARE = 0.25
# EB-COAL: raw coal reaches the city by rail and sea from other provinces (inflow, 85 %) and from abroad
# (imports, 15 %); Dalian has no coal mining. EB-GAS: natural gas bought from the regional network fed by
# the Dalian LNG terminal (inflow). EB-NFDIRECT: biomass, solar thermal and geothermal are produced where
# used (production = final consumption).
COAL_IMPORT_SHARE = 0.15

# Calibration constants (checks only, they do not change any written value): the coal-equivalent
# electricity factor (发电煤耗, data/factors/coal_rate.csv thermal_power_generation), the Liaoning grid's
# non-fossil generation share (data/factors/grid_nonfossil_share.csv) and the windows the anchors impose.
CAL_COAL_RATE = {2015: 0.2975, 2016: 0.2945, 2017: 0.2915, 2018: 0.2901, 2019: 0.2889, 2020: 0.2880,
                 2021: 0.2850, 2022: 0.2832, 2023: 0.2832, 2024: 0.2832}
CAL_GRID_SHARE = {2015: 0.20, 2016: 0.24, 2017: 0.26, 2018: 0.28, 2019: 0.29, 2020: 0.30, 2021: 0.32,
                  2022: 0.37, 2023: 0.39, 2024: 0.41}
#: EB-CAL targets: the intensity path the final fossil fuels are scaled to (changes on the base year; the
#: published bounds above are the checks). 2015->2020 -22 % and 2020->2023 -13.5 % keep a margin to ">20 %"
#: and "13 % or more"; 2024 -2.5 % on 2023 (the national 2024 target, 国发〔2024〕12号).
CAL_INTENSITY_TARGET = {2018: INTENSITY_CHANGE_2015_2018, 2020: -0.22, 2023: -0.135, 2024: -0.025}
#: the dataset's industry (industrial final use incl. feedstock + transformation losses) in the year of the
#: 规上工业 anchor: at least the 16 Mtce of the enterprises above designated size, at most 16 / 0.75
CAL_INDUSTRY_MTCE = (16.0, 16.0 / 0.75)
CAL_NONFOSSIL_2024 = (0.12, 0.16)
CAL_REFINERY_ENERGY_LOSS = (0.01, 0.02)


# =====================================================================================================
# helpers
# =====================================================================================================

def idx(year: int) -> int:
    return year - YEARS[0]


def lerp(pair: tuple[float, float], year: int) -> float:
    """Linear path from pair[0] in 2015 to pair[1] in 2024."""
    start, end = pair
    return start + (end - start) * idx(year) / (YEARS[-1] - YEARS[0])


def interp(anchors: dict[int, float], year: int) -> float:
    """Linear interpolation between the anchor years (flat outside them)."""
    keys = sorted(anchors)
    if year <= keys[0]:
        return anchors[keys[0]]
    if year >= keys[-1]:
        return anchors[keys[-1]]
    for lo, hi in pairwise(keys):
        if lo <= year <= hi:
            return anchors[lo] + (anchors[hi] - anchors[lo]) * (year - lo) / (hi - lo)
    raise AssertionError(year)


def fmt(value: float, digits: int = 2) -> str:
    """Deterministic decimal text: rounded, trailing zeros dropped, never '-0'."""
    text = f"{round(value, digits):.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def r2(value: float) -> float:
    return round(value, 2)


MWH_TO_WAN_KWH = conversion_factor("MWh", "10^4 kWh")
TWH_TO_WAN_KWH = conversion_factor("TWh", "10^4 kWh")
WAN_KWH_TO_KWH = conversion_factor("10^4 kWh", "kWh")
WAN_T_TO_KG = conversion_factor("10^4 t", "kg")
WAN_M3_TO_M3 = conversion_factor("10^4 m3", "m**3")
WAN_GJ_TO_MJ = conversion_factor("10^4 GJ", "MJ")
KGCE_TO_TCE = conversion_factor("kgce", "tce")


# =====================================================================================================
# statistics.csv
# =====================================================================================================

def real_index_2020() -> dict[int, float]:
    """Real GDP at constant 2020 prices relative to 2020 (chain of real growth rates)."""
    index = {2020: 1.0}
    for year in range(2021, YEARS[-1] + 1):
        index[year] = index[year - 1] * (1 + GDP_REAL_GROWTH[year] / 100)
    for year in range(2019, YEARS[0] - 1, -1):
        index[year] = index[year + 1] / (1 + GDP_REAL_GROWTH[year + 1] / 100)
    return index


def statistics_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    index = real_index_2020()
    for year in YEARS:
        status, source = GDP_SOURCES.get(year, ("unverified", SRC_RECALLED_BULLETIN.format(year=year)))
        rows.append([year, "gdp", fmt(GDP_CURRENT[year], 1), "10^8 CNY", "", status, source])
        const2020 = GDP_CURRENT[2020] * index[year]
        const2015 = const2020 / DEFLATOR_2015_TO_2020
        rows.append([year, "gdp", fmt(const2020, 1), "10^8 CNY", "2020", "estimate", est("GDP-CONST")])
        rows.append([year, "gdp", fmt(const2015, 1), "10^8 CNY", "2015", "estimate", est("GDP-CONST")])
        if year in GDP_SECTORS_OFFICIAL:
            parts = GDP_SECTORS_OFFICIAL[year]
            status, source = GDP_SOURCES[year]
            for variable, value in zip(("gdp_primary", "gdp_secondary", "gdp_tertiary"), parts, strict=True):
                rows.append([year, variable, fmt(value, 1), "10^8 CNY", "", status, source])
        else:
            official = {y: GDP_SECTORS_OFFICIAL[y] for y in (2017, 2023)}
            p_anchor = {**PRIMARY_SHARE_ANCHOR, **{y: v[0] / GDP_CURRENT[y] for y, v in official.items()}}
            t_anchor = {**TERTIARY_SHARE_ANCHOR, **{y: v[2] / GDP_CURRENT[y] for y, v in official.items()}}
            primary = r2(round(GDP_CURRENT[year] * interp(p_anchor, year), 1))
            tertiary = r2(round(GDP_CURRENT[year] * interp(t_anchor, year), 1))
            secondary = GDP_CURRENT[year] - primary - tertiary
            for variable, value in (("gdp_primary", primary), ("gdp_secondary", secondary),
                                    ("gdp_tertiary", tertiary)):
                rows.append([year, variable, fmt(value, 1), "10^8 CNY", "", "estimate", est("GDP-SPLIT")])
        if year in POPULATION_OFFICIAL:
            rows.append([year, "population", fmt(POPULATION_OFFICIAL[year], 1), "10^4 person", "", "official",
                         SRC_BULLETIN_2023])
        elif year in POPULATION_REPORTED:
            value, source = POPULATION_REPORTED[year]
            rows.append([year, "population", fmt(value, 1), "10^4 person", "", "secondary", source])
        elif year in POPULATION_RECALLED:
            source = SRC_CENSUS_2020 if year == 2020 else SRC_RECALLED_BULLETIN.format(year=year)
            rows.append([year, "population", fmt(POPULATION_RECALLED[year], 1), "10^4 person", "",
                         "unverified", source])
        else:
            rows.append([year, "population", fmt(population_estimate(year), 1), "10^4 person", "", "estimate",
                         est("POP")])
    return [[str(year), REGION, *rest] for year, *rest in rows]


def population_estimate(year: int) -> float:
    if year == 2021:
        return POPULATION_REPORTED[2022][0] / (1 + POPULATION_GROWTH_2022)
    if year == 2024:
        return POPULATION_OFFICIAL[2023] * (1 + POPULATION_GROWTH_2024)
    raise AssertionError(year)


# =====================================================================================================
# capacity.csv
# =====================================================================================================

def nuclear_units(at: date) -> int:
    return sum(1 for cod in HONGYANHE_COD if cod <= at)


def capacity_table() -> dict[str, dict[int, float]]:
    """Capacity (MW) at year end for 2014-2024, coal solved from the end-2022 V* total."""
    table: dict[str, dict[int, float]] = {}
    for tech, values in CAPACITY_MW.items():
        table[tech] = {year: v for year, v in zip(CAPACITY_YEARS, values, strict=True) if v is not None}
    table["nuclear"] = {year: nuclear_units(date(year, 12, 31)) * HONGYANHE_UNIT_MW for year in CAPACITY_YEARS}
    clean_2022 = CAPACITY_TOTAL_2022_MW * CAPACITY_CLEAN_SHARE_2022
    fossil_2022 = CAPACITY_TOTAL_2022_MW - clean_2022
    coal_residual = r2(fossil_2022 - table["gas"][2022])
    for year in range(2021, YEARS[-1] + 1):
        table["coal"][year] = coal_residual
    # onshore wind at end-2023: what the V* end-2023 total leaves for it
    others_2023 = sum(table[t][2023] for t in table if t != "wind_onshore")
    table["wind_onshore"][2023] = r2(CAPACITY_TOTAL_2023_MW - others_2023)
    # coal at end-2019 and end-2020: the end-2020 total implied by the V* 2021-2023 additions
    others_2020 = sum(table[t][2020] for t in table if t != "coal")
    coal_2020 = r2(CAPACITY_TOTAL_2023_MW - CAPACITY_ADDED_2021_2023_MW - others_2020)
    table["coal"][2019] = table["coal"][2020] = coal_2020
    return table


def capacity_rows() -> list[list[str]]:
    table = capacity_table()
    order = ("wind_onshore", "wind_offshore", "solar_utility", "solar_distributed", "nuclear", "coal", "gas",
             "biomass", "hydro", "pumped_storage")
    rows = []
    for year in YEARS:
        for tech in order:
            if tech == "nuclear":
                status, source = "secondary", SRC_HONGYANHE_UNITS
            elif (tech == "coal" and year >= 2019) or (tech == "wind_onshore" and year == 2023):
                status, source = "estimate", est("CAP-TOTAL")
            elif tech.startswith("wind"):
                status, source = "estimate", est("CAP-WIND")
            else:
                status, source = "estimate", est("CAP-MIX")
            rows.append([str(year), REGION, tech, fmt(table[tech][year]), "MW", status, source])
    return rows


# =====================================================================================================
# energy_balance.csv
# =====================================================================================================

class Balance:
    """Rows of one year's balance, with the physical quantity already rounded as written."""

    def __init__(self, year: int):
        self.year = year
        self.rows: list[tuple[str, str, str, float, str, str, str]] = []

    def add(self, flow: str, sector: str, fuel: str, quantity: float, unit: str, rule: str,
            status: str = "estimate", source: str | None = None) -> float:
        value = r2(quantity)
        if value == 0 and flow not in ("net_inflow",):
            return 0.0
        self.rows.append((flow, sector, fuel, value, unit, status, source or est(rule)))
        return value

    def total(self, fuel: str, flows: tuple[str, ...]) -> float:
        return sum(q for f, _s, fu, q, *_ in self.rows if fu == fuel and f in flows)


SUPPLY_FLOWS = ("production", "imports", "inflow", "net_inflow", "stock_change", "transformation_output")
USE_FLOWS = ("exports", "outflow", "transformation_input", "losses", "final_consumption", "non_energy_use")
PRIMARY_ELECTRICITY = ("nuclear_power", "wind_power", "solar_power", "hydro_power", "biomass_power")


def nuclear_twh(year: int) -> float:
    """EB-NUC: Hongyanhe on-grid output, TWh."""
    if year in HONGYANHE_ONGRID_TWH:
        return HONGYANHE_ONGRID_TWH[year]
    if year == 2017:
        return HONGYANHE_2018_TWH / (1 + HONGYANHE_2018_GROWTH)
    if year + 1 in HONGYANHE_GROWTH:
        return HONGYANHE_ONGRID_TWH[year + 1] / (1 + HONGYANHE_GROWTH[year + 1])
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    unit_hours = sum(max(0, (end - max(cod, start)).days) * 24 for cod in HONGYANHE_COD)
    return unit_hours * HONGYANHE_UNIT_MW * NUCLEAR_CF[year] / 1e6


def average_capacity(table: dict[str, dict[int, float]], tech: str, year: int) -> float:
    return (table[tech][year - 1] + table[tech][year]) / 2


def electricity_use_twh() -> dict[int, float]:
    """EB-ELEC: 全社会用电量 (final + losses + power plants' own use), TWh."""
    use = {year: HONGYANHE_ONGRID_TWH[year] / share for year, share in HONGYANHE_SHARE_OF_DALIAN_USE.items()}
    use[2023] = ELECTRICITY_USE_2023_TWH
    for year in range(2017, YEARS[0] - 1, -1):
        use[year] = use[year + 1] / (1 + ELEC_GROWTH_BEFORE_2018[year + 1] / 100)
    rise = use[2022] / use[2018]
    for year in (2019, 2020, 2021):
        use[year] = use[year - 1] * rise ** ELEC_RISE_SHARES_2019_2022[year]
    return dict(sorted(use.items()))


def final_quantity(fuel: str, sector: str, year: int) -> float:
    base = FINAL_2015[fuel][sector]
    trend = FUEL_SECTOR_TREND.get((fuel, sector), FUEL_TREND[fuel])
    value = base * ACTIVITY[sector][idx(year)] * (1 + trend) ** idx(year)
    if fuel == "gasoline" and year > GASOLINE_EV_CUT[0]:
        value *= (1 + GASOLINE_EV_CUT[1]) ** (year - GASOLINE_EV_CUT[0])
    return value


def neu_naphtha_share(refinery: str, year: int) -> float:
    if year >= 2021 and refinery in NEU_NAPHTHA_SHARE_FROM_2021:
        return NEU_NAPHTHA_SHARE_FROM_2021[refinery]
    return NEU_NAPHTHA_SHARE[refinery]


#: fuels of FINAL_2015 that EB-CAL scales (the fossil ones)
CAL_FUELS = ("raw_coal", "coke", "natural_gas", "gasoline", "diesel", "kerosene", "fuel_oil", "lpg")


def build_year(year: int, capacity: dict[str, dict[int, float]], elec_use: dict[int, float],
               scale: float = 1.0) -> Balance:
    b = Balance(year)
    # --- final consumption of fuels other than electricity and heat (EB-FINAL, EB-SECT, EB-CAL) ---------
    for fuel, sectors in FINAL_2015.items():
        for sector in sectors:
            factor = scale if fuel in CAL_FUELS else 1.0
            b.add("final_consumption", sector, fuel, final_quantity(fuel, sector, year) * factor, FINAL_UNIT[fuel],
                  "EB-FINAL")
    for fuel in ("biomass", "solar_thermal", "geothermal"):  # EB-NFDIRECT
        b.add("production", "", fuel, b.total(fuel, ("final_consumption",)), "tce", "EB-NFDIRECT")

    # --- electricity demand (EB-ELEC, EB-OWNUSE-ELEC, EB-LOSS, EB-ELEC-SPLIT) ----------------------------
    nuclear = nuclear_twh(year) * TWH_TO_WAN_KWH
    coal_mwh = average_capacity(capacity, "coal", year) * HOURS_COAL[year]
    gas_mwh = average_capacity(capacity, "gas", year) * HOURS["gas"]
    own_use = b.add("transformation_input", "power", "electricity",
                    nuclear * OWN_USE_ELEC_SHARE["nuclear"] + (coal_mwh * OWN_USE_ELEC_SHARE["coal"]
                                                               + gas_mwh * OWN_USE_ELEC_SHARE["gas"]) * MWH_TO_WAN_KWH,
                    "10^4 kWh", "EB-OWNUSE-ELEC")
    used = elec_use[year] * TWH_TO_WAN_KWH - own_use  # final + losses
    losses = b.add("losses", "", "electricity", used * lerp(ELEC_LOSS_SHARE, year), "10^4 kWh", "EB-LOSS")
    weights = {s: ELEC_SHARE_2015[s] * ACTIVITY[s][idx(year)] * (1 + ELEC_TREND.get(s, 0.0)) ** idx(year)
               for s in SECTORS}
    total_weight = sum(weights.values())
    for sector in SECTORS:
        b.add("final_consumption", sector, "electricity", (used - losses) * weights[sector] / total_weight,
              "10^4 kWh", "EB-ELEC-SPLIT")

    # --- heat demand and supply (EB-HEAT, EB-HEAT-SUPPLY) ------------------------------------------------
    area_mm2 = HEATING_AREA_MM2 * (1 + HEATING_AREA_GROWTH) ** (year - HEATING_AREA_YEAR)
    space_wan_gj = area_mm2 * 1e6 * lerp(HEAT_INTENSITY_GJ_M2, year) / 1e4
    for sector, share in SPACE_HEAT_SPLIT.items():
        steam = STEAM_2015.get(sector, 0.0) * ACTIVITY[sector][idx(year)]
        b.add("final_consumption", sector, "heat", space_wan_gj * share + steam, "10^4 GJ", "EB-HEAT")
    for sector, steam in STEAM_2015.items():
        if sector not in SPACE_HEAT_SPLIT:
            b.add("final_consumption", sector, "heat", steam * ACTIVITY[sector][idx(year)], "10^4 GJ", "EB-HEAT")
    heat_final = b.total("heat", ("final_consumption",))
    heat_out = heat_final / (1 - HEAT_LOSS_SHARE)
    chp_heat = b.add("transformation_output", "power", "heat", heat_out * lerp(CHP_HEAT_SHARE, year), "10^4 GJ",
                     "EB-HEAT-SUPPLY")
    boiler_heat = r2(heat_out - chp_heat)
    b.add("transformation_output", "heat_supply", "heat", boiler_heat, "10^4 GJ", "EB-HEAT-SUPPLY")
    b.add("losses", "", "heat", chp_heat + boiler_heat - heat_final, "10^4 GJ", "EB-LOSS")
    gas_share = lerp(BOILER_GAS_SHARE, year)
    heat_mj = {"raw_coal": boiler_heat * (1 - gas_share), "natural_gas": boiler_heat * gas_share}
    for fuel, wan_gj in heat_mj.items():
        kgce = wan_gj * WAN_GJ_TO_MJ * KGCE["heat"] / EFF_BOILER[fuel]
        unit_factor = WAN_T_TO_KG if fuel == "raw_coal" else WAN_M3_TO_M3
        b.add("transformation_input", "heat_supply", fuel, kgce / KGCE[fuel] / unit_factor,
              FINAL_UNIT[fuel], "EB-HEAT-SUPPLY")

    # --- generation (CAP-*, EB-GEN, EB-NUC, EB-POWER) ----------------------------------------------------
    if year in HONGYANHE_ONGRID_TWH:
        b.add("production", "", "nuclear_power", nuclear, "10^4 kWh", "", "secondary", SRC_HONGYANHE_ONGRID[year])
    else:
        b.add("production", "", "nuclear_power", nuclear, "10^4 kWh", "EB-NUC")
    wind_mwh = (average_capacity(capacity, "wind_onshore", year) * HOURS_WIND_ONSHORE[year]
                + average_capacity(capacity, "wind_offshore", year) * HOURS["wind_offshore"])
    solar_mwh = sum(average_capacity(capacity, t, year) * HOURS[t] for t in ("solar_utility", "solar_distributed"))
    for fuel, mwh in (("wind_power", wind_mwh), ("solar_power", solar_mwh),
                      ("hydro_power", average_capacity(capacity, "hydro", year) * HOURS["hydro"]),
                      ("biomass_power", average_capacity(capacity, "biomass", year) * HOURS["biomass"])):
        b.add("production", "", fuel, mwh * MWH_TO_WAN_KWH, "10^4 kWh", "EB-GEN")
    thermal = b.add("transformation_output", "power", "electricity", (coal_mwh + gas_mwh) * MWH_TO_WAN_KWH,
                    "10^4 kWh", "EB-POWER")
    gas_kwh = gas_mwh * 1e3
    coal_kwh = thermal * WAN_KWH_TO_KWH - gas_kwh
    coal_kgce = coal_kwh * lerp(COAL_RATE_PLANT, year) + chp_heat * WAN_GJ_TO_MJ * KGCE["heat"] / EFF_CHP_HEAT
    b.add("transformation_input", "power", "raw_coal", coal_kgce / KGCE["raw_coal"] / WAN_T_TO_KG, "10^4 t",
          "EB-POWER")
    b.add("transformation_input", "power", "natural_gas",
          gas_kwh * GAS_RATE_PLANT / KGCE["natural_gas"] / WAN_M3_TO_M3, "10^4 m3", "EB-POWER")
    primary = sum(b.total(f, ("production",)) for f in PRIMARY_ELECTRICITY)
    use = b.total("electricity", ("final_consumption", "losses", "transformation_input"))
    b.add("net_inflow", "", "electricity", use - primary - thermal, "10^4 kWh", "EB-ELEC-NET")

    # --- refining (EB-REF, EB-REF-YIELD, EB-CRUDE, EB-OWNUSE, EB-NEU) ------------------------------------
    crude = {name: CRUDE_THROUGHPUT[name][idx(year)] for name in CRUDE_THROUGHPUT}
    crude_in = b.add("transformation_input", "refining", "crude_oil", sum(crude.values()), "10^4 t", "EB-REF")
    pipeline = b.add("inflow", "", "crude_oil", crude["dalian_petrochem"] * CRUDE_PIPELINE_SHARE_DALIAN_PETROCHEM,
                     "10^4 t", "EB-CRUDE")
    b.add("imports", "", "crude_oil", crude_in - pipeline, "10^4 t", "EB-CRUDE")
    products = YIELDS["dalian_petrochem"].keys()
    for product in products:
        out = b.add("transformation_output", "refining", product,
                    sum(crude[n] * YIELDS[n][product] for n in crude), "10^4 t", "EB-REF-YIELD")
        if product in OWN_USE:
            b.add("final_consumption", "petrochemical", product, out * OWN_USE[product], "10^4 t", "EB-OWNUSE")
        if product == "naphtha":
            b.add("non_energy_use", "petrochemical", product,
                  sum(crude[n] * YIELDS[n]["naphtha"] * neu_naphtha_share(n, year) for n in crude), "10^4 t",
                  "EB-NEU")
        if product == "lpg":
            b.add("non_energy_use", "petrochemical", product, out * NEU_LPG_SHARE, "10^4 t", "EB-NEU")
        net = out - b.total(product, ("final_consumption", "non_energy_use"))
        if net >= 0:
            b.add("outflow", "", product, net, "10^4 t", "EB-REF-TRADE")
        else:
            b.add("inflow", "", product, -net, "10^4 t", "EB-REF-TRADE")

    # --- coal and gas supply (EB-COAL, EB-GAS) ------------------------------------------------------------
    coal_use = b.total("raw_coal", ("final_consumption", "transformation_input"))
    coal_imports = b.add("imports", "", "raw_coal", coal_use * COAL_IMPORT_SHARE, "10^4 t", "EB-COAL")
    b.add("inflow", "", "raw_coal", coal_use - coal_imports, "10^4 t", "EB-COAL")
    b.add("inflow", "", "coke", b.total("coke", ("final_consumption",)), "10^4 t", "EB-COAL")
    b.add("inflow", "", "natural_gas", b.total("natural_gas", ("final_consumption", "transformation_input")),
          "10^4 m3", "EB-GAS")
    return b


FLOW_ORDER = ("production", "imports", "inflow", "net_inflow", "stock_change", "exports", "outflow",
              "transformation_input", "transformation_output", "losses", "final_consumption", "non_energy_use")
FUEL_ORDER = ("raw_coal", "coke", "crude_oil", "gasoline", "kerosene", "diesel", "fuel_oil", "naphtha", "lpg",
              "refinery_gas", "petroleum_coke", "other_petroleum_products", "natural_gas", "electricity", "heat",
              *PRIMARY_ELECTRICITY, "biomass", "solar_thermal", "geothermal")
SECTOR_ORDER = ("", "power", "heat_supply", "refining", *SECTORS)


def balance_rows(balances: list[Balance]) -> list[list[str]]:
    rows = []
    for b in balances:
        ordered = sorted(b.rows, key=lambda r: (FUEL_ORDER.index(r[2]), FLOW_ORDER.index(r[0]),
                                                SECTOR_ORDER.index(r[1])))
        for flow, sector, fuel, quantity, unit, status, source in ordered:
            rows.append([str(b.year), REGION, flow, sector, fuel, fmt(quantity), unit, status, source])
    return rows


def intensity_targets() -> dict[int, float]:
    """EB-CAL: the total energy consumption (Mtce) the balance is scaled to, year by year.

    2015 follows from the two 2016-2018 anchors together (intensity -13 % and +2.05 Mtce): T15 = 2.05 /
    ((1 - 0.13) x G18/G15 - 1), G the real GDP index. Intensity (T / G) then follows CAL_INTENSITY_TARGET
    (changes on 2015 for 2018 and 2020, on 2020 for 2023, on 2023 for 2024), geometric in between.
    """
    g = real_index_2020()
    t15 = TEC_INCREASE_2015_2018_MTCE / ((1 + INTENSITY_CHANGE_2015_2018) * g[2018] / g[2015] - 1)
    i = {2015: t15 / g[2015]}
    i[2018] = i[2015] * (1 + CAL_INTENSITY_TARGET[2018])
    i[2020] = i[2015] * (1 + CAL_INTENSITY_TARGET[2020])
    i[2023] = i[2020] * (1 + CAL_INTENSITY_TARGET[2023])
    i[2024] = i[2023] * (1 + CAL_INTENSITY_TARGET[2024])
    anchors = sorted(i)
    for lo, hi in pairwise(anchors):
        for year in range(lo + 1, hi):
            i[year] = i[lo] * (i[hi] / i[lo]) ** ((year - lo) / (hi - lo))
    return {year: i[year] * g[year] for year in YEARS}


def fossil_final_tce(b: Balance) -> float:
    """Mtce of the EB-FINAL rows that EB-CAL scales."""
    total = 0.0
    for flow, _sector, fuel, quantity, unit, _status, source in b.rows:
        if flow == "final_consumption" and fuel in CAL_FUELS and source == est("EB-FINAL"):
            factor = WAN_M3_TO_M3 if unit == "10^4 m3" else WAN_T_TO_KG
            total += quantity * factor * KGCE[fuel] * KGCE_TO_TCE / 1e6
    return total


def calibration_scales(capacity: dict[str, dict[int, float]], use: dict[int, float]) -> dict[int, float]:
    """EB-CAL: per year, the factor on final fossil fuels that makes the total meet intensity_targets().

    The total is linear in the factor (the scaled rows only change supply rows, which the total does not
    count), so one unscaled pass gives it; written quantities are rounded, hence a few tce of difference.
    """
    targets = intensity_targets()
    scales = {}
    for year in YEARS:
        b = build_year(year, capacity, use)
        scales[year] = 1 + (targets[year] - tce_of(b)["total"]) / fossil_final_tce(b)
    return scales


def build_balances() -> list[Balance]:
    capacity = capacity_table()
    use = electricity_use_twh()
    scales = calibration_scales(capacity, use)
    return [build_year(year, capacity, use, scales[year]) for year in YEARS]


# =====================================================================================================
# process_activity.csv, forest.csv, wetland.csv
# =====================================================================================================

# PROC: clinker 320 x 10^4 t in 2015 following the building-materials index; lime 60 x 10^4 t likewise;
# no basic-oxygen steel (Dalian's steel is electric-arc special steel), written as explicit zeros.
CLINKER_2015 = 320.0
LIME_2015 = 60.0


def process_rows() -> list[list[str]]:
    rows = []
    for year in YEARS:
        index = ACTIVITY["building_materials"][idx(year)]
        rows.append([str(year), REGION, "cement_clinker", fmt(CLINKER_2015 * index, 1), "10^4 t", "estimate",
                     est("PROC")])
        rows.append([str(year), REGION, "lime", fmt(LIME_2015 * index, 1), "10^4 t", "estimate", est("PROC")])
        rows.append([str(year), REGION, "crude_steel_bof", "0", "10^4 t", "estimate", est("PROC")])
    return rows


def forest_stock(year: int) -> float:
    """FOREST-STOCK: geometric between the V anchors 2015/2020, then along the plan path to 17.0 M m3 (2025)."""
    if year in FOREST_STOCK:
        return FOREST_STOCK[year]
    if year < 2020:
        ratio = FOREST_STOCK[2020] / FOREST_STOCK[2015]
        return FOREST_STOCK[2015] * ratio ** ((year - 2015) / 5)
    ratio = FOREST_STOCK_TARGET_2025 / FOREST_STOCK[2020]
    return FOREST_STOCK[2020] * ratio ** ((year - 2020) / 5)


#: forest coverage reported (V*): 41.5 % in ~2016 and 2020 (also 2011, outside the dataset)
FOREST_COVERAGE_SOURCES = {2016: SRC_FOREST_COVER_2016, 2020: SRC_FOREST_COVER}


def forest_area_ha() -> float:
    """FOREST-AREA: 森林面积 = coverage x land area (the sinks' definition), rounded to 100 ha."""
    return round(FOREST_COVERAGE_2020 * LAND_AREA_KM2 * 100, -2)


def forest_rows() -> list[list[str]]:
    rows = []
    for year in YEARS:
        if year in FOREST_COVERAGE_SOURCES:
            status, source = "secondary", FOREST_COVERAGE_SOURCES[year]
        else:
            status, source = "estimate", est("FOREST-AREA")
        rows.append([str(year), REGION, "forest_coverage", fmt(FOREST_COVERAGE_2020, 3), "dimensionless", status,
                     source])
        rows.append([str(year), REGION, "forest_area", fmt(forest_area_ha(), 0), "ha", "estimate",
                     est("FOREST-AREA")])
        if year in FOREST_STOCK:
            rows.append([str(year), REGION, "forest_stock", fmt(FOREST_STOCK[year], 0), "m**3", "secondary",
                         SRC_FOREST_STOCK])
        else:
            rows.append([str(year), REGION, "forest_stock", fmt(forest_stock(year), -3), "m**3", "estimate",
                         est("FOREST-STOCK")])
    return rows


# WETLAND: split of the natural total (V) among coastal and inland types: tidal flats dominate the
# Yellow Sea / Bohai coast, Suaeda salt marsh along the Bohai side, small Zostera seagrass beds, rivers,
# lakes and reservoirs' natural margins inland. Held constant 2015-2024 (no survey between censuses).
WETLAND_SPLIT_NATURAL = {"tidal_flat": 170000.0, "salt_marsh": 12000.0, "seagrass": 3000.0}


def wetland_rows() -> list[list[str]]:
    split = dict(WETLAND_SPLIT_NATURAL)
    split["inland_natural"] = WETLAND_NATURAL_HA - sum(split.values())
    rows = []
    for year in YEARS:
        for ecosystem in ("salt_marsh", "seagrass", "tidal_flat", "inland_natural"):
            rows.append([str(year), REGION, ecosystem, fmt(split[ecosystem], 0), "ha", "estimate",
                         est("WETLAND")])
        status, source = ("secondary", SRC_WETLAND) if year == 2020 else ("estimate", est("WETLAND"))
        rows.append([str(year), REGION, "artificial", fmt(WETLAND_ARTIFICIAL_HA, 0), "ha", status, source])
    return rows


# =====================================================================================================
# calibration report and checks
# =====================================================================================================

def tce_of(b: Balance) -> dict[str, float]:
    """Coal-equivalent total energy consumption (Mtce) and its parts, demand side (NBS 能源消费总量)."""
    sign = {"final_consumption": 1, "non_energy_use": 1, "transformation_input": 1, "losses": 1,
            "transformation_output": -1}
    rate = CAL_COAL_RATE[b.year]
    k = dict(KGCE)
    tce = {"total": 0.0, "industry": 0.0, "neu": 0.0, "electricity_used": 0.0, "transformation": 0.0}
    industry = ("petrochemical", "steel", "building_materials", "equipment", "other_industry")
    for flow, sector, fuel, quantity, unit, *_ in b.rows:
        if flow not in sign:
            continue
        if fuel == "electricity":
            value = quantity * WAN_KWH_TO_KWH * rate * KGCE_TO_TCE
        elif unit == "tce":
            value = quantity
        elif unit == "10^4 GJ":
            value = quantity * WAN_GJ_TO_MJ * k["heat"] * KGCE_TO_TCE
        elif unit == "10^4 m3":
            value = quantity * WAN_M3_TO_M3 * k[fuel] * KGCE_TO_TCE
        else:
            value = quantity * WAN_T_TO_KG * k[fuel] * KGCE_TO_TCE
        value *= sign[flow]
        tce["total"] += value
        if sector in industry or flow.startswith("transformation"):
            tce["industry"] += value
        if flow.startswith("transformation"):
            tce["transformation"] += value
        if flow == "non_energy_use":
            tce["neu"] += value
        if fuel == "electricity" and flow in ("final_consumption", "losses", "transformation_input"):
            tce["electricity_used"] += value
    return {key: value / 1e6 for key, value in tce.items()}


def refinery_energy_loss(b: Balance) -> float:
    crude = sum(q for f, s, fu, q, *_ in b.rows if f == "transformation_input" and s == "refining")
    out = sum(q * KGCE[fu] for f, s, fu, q, *_ in b.rows if f == "transformation_output" and s == "refining")
    return 1 - out / (crude * KGCE["crude_oil"])


def nonfossil_share(b: Balance, tce_total: float) -> float:
    used_kwh = b.total("electricity", ("final_consumption", "losses", "transformation_input")) * WAN_KWH_TO_KWH
    direct = sum(b.total(f, ("final_consumption",)) for f in ("biomass", "solar_thermal", "geothermal"))
    nonfossil = used_kwh * CAL_GRID_SHARE[b.year] * CAL_COAL_RATE[b.year] * KGCE_TO_TCE + direct
    return nonfossil / 1e6 / tce_total


def calibration(balances: list[Balance]) -> tuple[list[str], list[str]]:
    """(report lines, failures) for the anchors the estimates must honour."""
    lines, failures = [], []
    index = real_index_2020()
    scales = calibration_scales(capacity_table(), electricity_use_twh())
    lines.append("EB-CAL scale on final fossil fuels: " + ", ".join(f"{y} {v:.3f}" for y, v in scales.items()))
    tec = {b.year: tce_of(b) for b in balances}
    lines.append("year  TEC_Mtce  industry%  NEU_Mtce  elec_TWh  intensity_tce/10^4yuan(2020p)  non-fossil%  "
                 "refinery_loss%")
    for b in balances:
        t = tec[b.year]
        gdp = GDP_CURRENT[2020] * index[b.year] * 1e4  # 10^4 yuan
        used = b.total("electricity", ("final_consumption", "losses", "transformation_input")) / 1e5
        lines.append(f"{b.year}  {t['total']:8.2f}  {100 * t['industry'] / t['total']:8.1f}  {t['neu']:8.2f}  "
                     f"{used:8.2f}  {t['total'] * 1e6 / gdp:8.3f}  {100 * nonfossil_share(b, t['total']):8.1f}  "
                     f"{100 * refinery_energy_loss(b):6.2f}")
        loss = refinery_energy_loss(b)
        if not CAL_REFINERY_ENERGY_LOSS[0] <= loss <= CAL_REFINERY_ENERGY_LOSS[1]:
            failures.append(f"{b.year}: refinery energy loss {loss:.2%} outside 1-2 %")
    lo, hi = CAL_INDUSTRY_MTCE
    industry = tec[INDUSTRY_YEAR]["industry"]
    lines.append(f"industry {INDUSTRY_YEAR}: {industry:.2f} Mtce (规上工业 {INDUSTRY_MTCE} Mtce, V)")
    if not lo <= industry <= hi:
        failures.append(f"industry {INDUSTRY_YEAR} {industry:.2f} Mtce outside {lo:.1f}-{hi:.1f}")

    def change(a: int, z: int) -> float:
        return (tec[z]["total"] / index[z]) / (tec[a]["total"] / index[a]) - 1

    rise = tec[2018]["total"] - tec[2015]["total"]
    lines.append(f"energy intensity 2015->2018: {change(2015, 2018):+.1%}, TEC {rise:+.3f} Mtce (V*: -13 %, +2.05)")
    lines.append(f"energy intensity 2015->2020: {change(2015, 2020):+.1%} (13th FYP: more than -20 %, V)")
    lines.append(f"energy intensity 2020->2023: {change(2020, 2023):+.1%} (-13 % or more, V)")
    if round(change(2015, 2018), 2) != INTENSITY_CHANGE_2015_2018:
        failures.append(f"intensity 2015->2018 {change(2015, 2018):.1%} does not round to -13 %")
    if abs(rise - TEC_INCREASE_2015_2018_MTCE) >= 0.005:
        failures.append(f"TEC 2015->2018 rises {rise:.3f} Mtce, not 2.05")
    if change(2015, 2020) >= INTENSITY_CHANGE_2015_2020_MAX:
        failures.append(f"intensity 2015->2020 falls only {change(2015, 2020):.1%}")
    if change(2020, 2023) > INTENSITY_CHANGE_2020_2023_MAX + 0.005:
        failures.append(f"intensity 2020->2023 falls only {change(2020, 2023):.1%}")
    b2024 = balances[idx(2024)]
    share = nonfossil_share(b2024, tec[2024]["total"])
    if not CAL_NONFOSSIL_2024[0] <= share <= CAL_NONFOSSIL_2024[1]:
        failures.append(f"non-fossil share 2024 {share:.1%} outside 12-15 %")
    cap = capacity_table()
    total_2022 = sum(cap[t][2022] for t in cap if t != "pumped_storage")
    clean_2022 = total_2022 - cap["coal"][2022] - cap["gas"][2022]
    clean_share = clean_2022 / total_2022
    lines.append(f"capacity end-2022: {total_2022:.1f} MW, clean {clean_share:.1%} (V*: 15 165 MW, 59.8 %)")
    if abs(total_2022 - CAPACITY_TOTAL_2022_MW) > 0.5 or abs(clean_share - CAPACITY_CLEAN_SHARE_2022) > 5e-4:
        failures.append("capacity end-2022 does not reproduce 15 165 MW / 59.8 %")
    totals = {y: sum(cap[t][y] for t in cap if t != "pumped_storage") for y in (2020, 2023)}
    share_2023 = 1 - (cap["coal"][2023] + cap["gas"][2023]) / totals[2023]
    lines.append(f"capacity end-2023: {totals[2023]:.1f} MW, clean {share_2023:.1%}; added 2021-2023 "
                 f"{totals[2023] - totals[2020]:.1f} MW (V*: 15 640 MW, 61 %; 4 310 MW)")
    if abs(totals[2023] - CAPACITY_TOTAL_2023_MW) > 0.5 or abs(totals[2023] - totals[2020]
                                                                - CAPACITY_ADDED_2021_2023_MW) > 0.5:
        failures.append("capacity end-2023 / 2021-2023 additions not reproduced")
    if round(share_2023, 2) != 0.61:
        failures.append(f"clean capacity share end-2023 {share_2023:.1%} does not round to 61 %")
    for b in balances:
        if b.year < 2019:
            continue
        thermal = b.total("electricity", ("transformation_output",))
        primary = sum(b.total(f, ("production",)) for f in PRIMARY_ELECTRICITY)
        lines.append(f"generation {b.year} (on-grid): {(thermal + primary) / 1e5:.1f} TWh, non-fossil "
                     f"{primary / (thermal + primary):.1%}")
    for b in balances:
        for fuel in {r[2] for r in b.rows}:
            if fuel in PRIMARY_ELECTRICITY:
                continue
            fuels = (fuel, *PRIMARY_ELECTRICITY) if fuel == "electricity" else (fuel,)
            supply = sum(b.total(f, SUPPLY_FLOWS) for f in fuels)
            use = b.total(fuel, USE_FLOWS)
            if abs(supply - use) > max(0.05, 1e-4 * max(abs(supply), abs(use))):
                failures.append(f"{b.year} {fuel}: supply {supply} != use {use}")
            if any(q < 0 for f, _s, fu, q, *_ in b.rows if fu == fuel and f not in ("net_inflow", "stock_change")):
                failures.append(f"{b.year} {fuel}: negative quantity")
    return lines, failures


# =====================================================================================================
# writing
# =====================================================================================================

TABLES = {
    "energy_balance.csv": ("year,region,flow,sector,fuel,quantity,unit,status,source", None),
    "statistics.csv": ("year,region,variable,value,unit,price_base_year,status,source", statistics_rows),
    "capacity.csv": ("year,region,technology,capacity,unit,status,source", capacity_rows),
    "process_activity.csv": ("year,region,process,quantity,unit,status,source", process_rows),
    "forest.csv": ("year,region,variable,value,unit,status,source", forest_rows),
    "wetland.csv": ("year,region,ecosystem,area,unit,status,source", wetland_rows),
}


def render(header: str, rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    buffer.write(BANNER + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buffer.getvalue()


def build() -> tuple[dict[str, str], list[str], list[str]]:
    """Every file's text, the calibration report and its failures."""
    balances = build_balances()
    texts = {}
    for name, (header, make) in TABLES.items():
        rows = balance_rows(balances) if make is None else make()
        texts[name] = render(header, rows)
    lines, failures = calibration(balances)
    return texts, lines, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write the CSV files into")
    parser.add_argument("--report", action="store_true", help="print the calibration report")
    args = parser.parse_args(argv)
    texts, lines, failures = build()
    if args.report:
        print("\n".join(lines))
    if failures:
        print("calibration failed; nothing written:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_bytes(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
