"""A sample 贯彻落实情况 report: headings of all levels, a table, a figure, attachments and 版记, long enough for
two pages at least (page numbers odd right, even left)."""

from __future__ import annotations

from datetime import date

import pytest

from citycarbon.documents.charts import bar_chart
from citycarbon.documents.gbt9704 import Figure, Heading, OfficialDocument, Paragraph, Table

TITLE = "关于2024年度碳达峰碳中和工作贯彻落实情况的报告"
TABLE_VALUE = "2,890.50"
ISSUER = "大连市碳达峰碳中和工作领导小组办公室"
NUMBER = "大碳达峰办〔2025〕5号"


def sample_document() -> OfficialDocument:
    chart = bar_chart(["中山区", "西岗区", "沙河口区", "甘井子区"], [92.5, 88.0, 75.25, 59.0],
                      title="2024年各区考核得分", unit="得分（分）", highlight=[False, False, False, True])
    body = [
        Heading("一、总体情况", 1),
        Paragraph("2024年，全市坚决贯彻落实党中央、国务院和省委、省政府关于碳达峰碳中和的决策部署，"
                  "统筹推进能源结构调整和产业结构优化，各项工作取得积极进展。"),
        Heading("（一）能源消费", 2),
        Table(["指标", "2024年（万吨标准煤）", "目标（万吨标准煤）"],
              [["能源消费总量", TABLE_VALUE, "3,000.00"], ["其中：煤炭", "1,204.10", "—"]],
              caption="表1 能源消费总量"),
        Heading("1. 能源消费总量控制", 3),
        Paragraph("全市能源消费总量控制在目标以内，单位地区生产总值能耗下降完成年度目标。" * 3),
        Heading("（1）重点用能单位", 4),
        Figure(chart, "图1 2024年各区考核得分", width_mm=140),
    ]
    body += [Paragraph(f"第{index}项工作：" + "推进重点领域绿色低碳转型，完善监测、统计和考核制度。" * 4)
             for index in range(1, 9)]
    return OfficialDocument(issuer=ISSUER, title=TITLE, body=body, day=date(2025, 1, 5), doc_number=NUMBER,
                            recipients="市委、市政府", attachments=["2024年度考核结果", "数据来源与版本"],
                            cc="市发展改革委，市生态环境局", printed_by=ISSUER)


@pytest.fixture(scope="session")
def sample() -> OfficialDocument:
    return sample_document()
