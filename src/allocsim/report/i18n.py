"""Thai for Thai users: the ONE table of report strings, English key -> Thai.

Keys are either metric / column names (snake_case, as in the result tables) or the English text of
a heading, label or phrase. English reports use the keys as they are (metric names through
:func:`allocsim.report.format.label`). ``tests/test_thai.py`` derives the metric names from the
code that produces them (``experiments.metrics.run_metrics`` and the simulation's tables) and fails
if any lacks a Thai label, so the two cannot drift.
"""

from __future__ import annotations

LANGS = ("en", "th")

TH: dict[str, str] = {
    # --- metrics and table columns (result-table names) ---
    "allocated_thb": "งบประมาณที่จัดสรร",
    "disbursed_thb": "เงินที่เบิกจ่าย",
    "carried_over_thb": "เงินกันไว้เบิกเหลื่อมปี",
    "lapsed_thb": "งบประมาณที่ตกพับ",
    "effective_benefit_thb": "ประโยชน์ที่เกิดขึ้นจริง",
    "value_for_money": "ความคุ้มค่าของเงิน",
    "duplicates_approved": "โครงการซ้ำซ้อนที่อนุมัติ",
    "duplicate_money_thb": "เงินของโครงการซ้ำซ้อน",
    "wasted_on_duplicates_thb": "เงินที่สูญเปล่าจากโครงการซ้ำซ้อน",
    "mean_days_to_disbursement": "จำนวนวันเฉลี่ยถึงการเบิกจ่ายครั้งแรก",
    "p90_days_to_disbursement": "จำนวนวันถึงการเบิกจ่ายครั้งแรก (เปอร์เซ็นไทล์ที่ 90)",
    "mean_change_approval_days": "จำนวนวันเฉลี่ยในการอนุมัติเปลี่ยนแปลงโครงการ",
    "escalations": "เรื่องที่ส่งขึ้นไปพิจารณาระดับสูง",
    "equity_gini_per_capita_benefit": "ค่าสัมประสิทธิ์จีนีของประโยชน์ต่อหัว",
    "plan_achievement": "ผลสัมฤทธิ์ตามแผน",
    "cluster_targets_met_share": "สัดส่วนเป้าหมายกลุ่มจังหวัดที่บรรลุ",
    "unmet_need": "ความต้องการที่ยังไม่ได้รับการตอบสนอง",
    "satisfaction": "ความพึงพอใจของประชาชน",
    "lapse_rate": "อัตรางบประมาณตกพับ",
    "alignment_share": "สัดส่วนที่สอดคล้องกับยุทธศาสตร์",
    "q1_disbursement_rate": "อัตราการเบิกจ่ายสะสม ไตรมาส 1",
    "q2_disbursement_rate": "อัตราการเบิกจ่ายสะสม ไตรมาส 2",
    "q3_disbursement_rate": "อัตราการเบิกจ่ายสะสม ไตรมาส 3",
    "q4_disbursement_rate": "อัตราการเบิกจ่ายสะสม ไตรมาส 4",
    "fiscal_year": "ปีงบประมาณ",
    "province": "จังหวัด",
    "name": "ชื่อ",
    "cluster": "กลุ่มจังหวัด",
    "rule": "หลักเกณฑ์",
    "total_benefit": "ประโยชน์รวม",
    "share_of_optimum": "สัดส่วนของค่าที่ดีที่สุด",
    "total_cost": "ต้นทุนรวม",
    "projects": "จำนวนโครงการ",
    "min_per_capita_benefit": "ประโยชน์ต่อหัวต่ำสุด",
    "rule_violations": "การละเมิดหลักเกณฑ์",
    "field": "รายการ",
    "value": "ค่า",
    "baseline": "กรณีฐาน",
    "reform": "การปฏิรูป",
    "scenario": "ฉากทัศน์",
    "metric": "ตัวชี้วัด",
    "difference": "ผลต่าง",
    "reading": "การอ่านผล",
    "better": "ดีขึ้น",
    "worse": "แย่ลง",
    "no clear change": "ไม่เปลี่ยนแปลงชัดเจน",
    # --- units ---
    "M THB": "ล้านบาท",
    "THB per head": "บาทต่อคน",
    "days": "วัน",
    "pp": "จุด",
    # --- headings ---
    "Allocation": "การจัดสรรงบประมาณ",
    "Portfolio": "ชุดโครงการ",
    "Simulation over time": "ผลการจำลองตามเวลา",
    "Per-province results": "ผลรายจังหวัด",
    "Scenario as run": "ฉากทัศน์ที่ใช้",
    "Differences from the baseline": "ความแตกต่างจากกรณีฐาน",
    "Disbursement by quarter": "การเบิกจ่ายรายไตรมาส",
    "Per-province differences": "ความแตกต่างรายจังหวัด",
    "what differs from the baseline": "สิ่งที่ต่างจากกรณีฐาน",
    # --- chart titles, axes, legends ---
    "Effective benefit per head (THB a year)": "ประโยชน์ที่เกิดขึ้นจริงต่อหัว (บาทต่อปี)",
    "Days from Budget Act to first payment": "จำนวนวันตั้งแต่ พ.ร.บ. งบประมาณถึงการเบิกจ่ายครั้งแรก",
    "change in": "การเปลี่ยนแปลงของ",
    "days to first payment": "จำนวนวันถึงการเบิกจ่ายครั้งแรก",
    "benefit": "ประโยชน์",
    "Optimal allocation by province and source": "การจัดสรรที่ดีที่สุดรายจังหวัดและแหล่งเงิน",
    "% of the year's budget disbursed": "ร้อยละของงบประมาณปีที่เบิกจ่าย",
    "Q1 (Oct–Dec)": "ไตรมาส 1 (ต.ค.–ธ.ค.)",
    "Q2": "ไตรมาส 2",
    "Q3": "ไตรมาส 3",
    "Q4 (Jul–Sep)": "ไตรมาส 4 (ก.ค.–ก.ย.)",
    "mean days from Budget Act to first disbursement":
        "จำนวนวันเฉลี่ยตั้งแต่ พ.ร.บ. งบประมาณถึงการเบิกจ่ายครั้งแรก",
    "provinces × years": "จังหวัด × ปี",
    "Delay": "ความล่าช้า",
    "duplicated projects approved": "โครงการซ้ำซ้อนที่อนุมัติ",
    "Duplication": "ความซ้ำซ้อน",
    "% change vs baseline (95% CI)": "% การเปลี่ยนแปลงเทียบกรณีฐาน (ช่วงความเชื่อมั่น 95%)",
    "Differences from the baseline (green better, red worse, grey no clear change)":
        "ความแตกต่างจากกรณีฐาน (เขียว ดีขึ้น, แดง แย่ลง, เทา ไม่เปลี่ยนแปลงชัดเจน)",
    "minimum per-capita benefit over provinces (THB per head)":
        "ประโยชน์ต่อหัวต่ำสุดในบรรดาจังหวัด (บาทต่อคน)",
    "Benefit–equity Pareto frontier": "เส้นพาเรโตระหว่างประโยชน์กับความเป็นธรรม",
    "province_budget": "งบจังหวัด",
    "ministry_budget": "งบกระทรวง",
    "local_grant": "เงินอุดหนุนท้องถิ่น",
    "private": "ภาคเอกชน",
    "cluster_budget": "งบกลุ่มจังหวัด",
    "no data": "ไม่มีข้อมูล",
    "cluster border": "เขตกลุ่มจังหวัด",
    "Real provincial budget per head": "งบประมาณจังหวัดต่อหัวประชากร",
    # --- phrases in the report text ---
    "was run with seed": "รันด้วยเมล็ดสุ่ม (seed)",
    "on the cluster map": "บนแผนที่กลุ่มจังหวัด",
    "candidate projects": "โครงการที่เสนอ",
    "Portfolio optimisation": "การหาชุดโครงการที่ดีที่สุด",
    "projects funded": "โครงการที่ได้รับงบประมาณ",
    "Mean a year over the simulated fiscal years": "ค่าเฉลี่ยต่อปีตลอดปีงบประมาณที่จำลอง",
    "The portfolio solution is not a proven optimum: read its numbers as a feasible plan, not the "
    "best one.": "คำตอบชุดโครงการยังไม่ได้พิสูจน์ว่าดีที่สุด: ให้อ่านตัวเลขเป็นแผนที่ทำได้ "
                 "ไม่ใช่แผนที่ดีที่สุด",
    "Amounts in million baht by province and source; envelopes, floors and absorption capacities "
    "are illustrative scenario parameters.": "จำนวนเงินเป็นล้านบาท รายจังหวัดและแหล่งเงิน "
    "วงเงิน ขั้นต่ำ และความสามารถในการใช้จ่ายเป็นพารามิเตอร์สมมติของฉากทัศน์",
    "Benefit of formula allocations against the LP optimum:":
        "ประโยชน์ของการจัดสรรตามสูตรเทียบกับค่าที่ดีที่สุดของแบบจำลอง LP:",
    "How far each allocation rule is from the optimum:":
        "หลักเกณฑ์การจัดสรรแต่ละแบบห่างจากค่าที่ดีที่สุดเท่าใด:",
    "replicates on common random numbers": "รอบจำลองบนเลขสุ่มชุดเดียวกัน",
    "compared with": "เปรียบเทียบกับ",
    "differences are reform − baseline with confidence intervals":
        "ผลต่างคือ การปฏิรูป − กรณีฐาน พร้อมช่วงความเชื่อมั่น",
    "shows no clear change in any metric.": "ไม่มีตัวชี้วัดใดเปลี่ยนแปลงอย่างชัดเจน",
    "to": "ถึง",
    "Made by allocsim. Every number that is not a reference fact is produced by scenario parameters "
    "labelled illustrative; see the scenario section.":
        "จัดทำโดย allocsim ตัวเลขทุกตัวที่ไม่ใช่ข้อเท็จจริงอ้างอิงมาจากพารามิเตอร์ของฉากทัศน์ "
        "ซึ่งระบุว่าเป็นค่าสมมติ ดูหัวข้อฉากทัศน์",
}


def t(text: str, lang: str = "en") -> str:
    """``text`` in ``lang``. Thai needs an entry in :data:`TH` (a missing one is a bug, caught by
    the Thai report test), English is the key itself."""
    if lang == "en":
        return text
    if lang != "th":
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return TH[text]
