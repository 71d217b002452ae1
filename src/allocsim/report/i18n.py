"""Thai for Thai users: the ONE table of report strings, English key -> Thai.

Keys are either metric / column names (snake_case, as in the result tables) or the English text of
a heading, label or phrase. English reports use the keys as they are (metric names through
:func:`allocsim.report.format.label`). Metric labels come from the metric catalogue
(``allocsim.metrics``, ``label_th``); ``tests/test_thai.py`` derives the metric names from the code
that produces them (``experiments.metrics.run_metrics``) and fails if any lacks a Thai label.
"""

from __future__ import annotations

from allocsim.metrics import METRICS_LIST

LANGS = ("en", "th")

TH: dict[str, str] = {
    "Mean days to first payment here pool every funded project of every year, including projects first "
    "paid after their fiscal year; the yearly tables' days to first disbursement count a year's projects "
    "paid within that year.":
        "จำนวนวันเฉลี่ยถึงการจ่ายเงินครั้งแรกในตารางนี้รวมทุกโครงการที่ได้รับงบประมาณทุกปี รวมถึงโครงการที่จ่ายเงินครั้งแรก"
        "หลังสิ้นปีงบประมาณของตน ส่วนตารางรายปีนับเฉพาะโครงการของปีนั้นที่เบิกจ่ายภายในปี",
    "In the simulation, <b>{n} projects were funded</b> in FY{fy} ({money} M THB).":
        "ในแบบจำลอง <b>มีโครงการได้รับงบประมาณ {n} โครงการ</b> ในปีงบประมาณ {fy} ({money} ล้านบาท)",
    "This is the optimal plan for the same money (counterfactual), not what the simulation ran: the "
    "simulation followed the scenario's allocation rule.":
        "นี่คือแผนที่ดีที่สุดสำหรับเงินจำนวนเดียวกัน (สถานการณ์สมมติเปรียบเทียบ) ไม่ใช่สิ่งที่แบบจำลองดำเนินการ "
        "แบบจำลองใช้หลักเกณฑ์การจัดสรรของสถานการณ์",
    "Each simulated year the optimiser allocated and selected again; HiGHS's status and gap per year:":
        "ในแต่ละปีที่จำลอง ตัวหาค่าเหมาะสมที่สุดจัดสรรและคัดเลือกโครงการใหม่ สถานะและช่องว่าง (gap) ของ HiGHS รายปี:",
    "optimal": "เหมาะสมที่สุด",
    "sweep": "การกวาดค่าพารามิเตอร์",
    "<b>{name}</b> was swept with a {design} design: {points} parameter points × {seeds} seeds = {runs} "
    "runs of the closed loop.":
        "<b>{name}</b> ถูกกวาดค่าพารามิเตอร์ด้วยแบบแผน {design}: {points} จุดพารามิเตอร์ × {seeds} ค่าเมล็ดสุ่ม "
        "= {runs} รอบของวงจรปิด",
    "Swept parameters": "พารามิเตอร์ที่กวาดค่า",
    "Most influential parameter per metric": "พารามิเตอร์ที่มีอิทธิพลมากที่สุดต่อแต่ละตัวชี้วัด",
    "Sensitivity": "ความไวของผลลัพธ์",
    "parameter": "พารามิเตอร์",
    "low": "ค่าต่ำสุด",
    "high": "ค่าสูงสุด",
    "conf": "ช่วงความเชื่อมั่น",
    "index": "ดัชนี",
    # --- metrics: their Thai labels live in the metric catalogue (allocsim/metrics.py) ---
    **{m.name: m.label_th for m in METRICS_LIST},
    # --- other table columns (result-table names) ---
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
    "status": "สถานะ",
    "area": "พื้นที่",
    "source": "แหล่งงบประมาณ",
    "limit_mthb": "วงเงินจำกัด (ล้านบาท)",
    "used_mthb": "ใช้ไป (ล้านบาท)",
    "binding": "เต็มวงเงิน",
    "benefit_per_extra_mthb": "ประโยชน์ต่อเงินเพิ่ม 1 ล้านบาท",
    "money_mthb": "เงินที่จัดสรร (ล้านบาท)",
    "conflict": "ข้อขัดแย้ง",
    "reference_status": "สถานะของค่าอ้างอิง",
    "reference_gap": "ช่องว่างของค่าอ้างอิง",
    "reference_label": "คำอธิบายค่าอ้างอิง",
    "share_of_bound": "สัดส่วนของขอบเขตที่ดีที่สุด",
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
    "no change": "ไม่เปลี่ยนแปลง",
    "changed": "เปลี่ยนแปลง",
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
    # --- report text: English templates ({placeholders} filled by html.py) -> Thai ---
    "no description": "ไม่มีคำอธิบาย",
    "to": "ถึง",
    "<b>{name}</b> ({description}) was run with seed {seed} on the {cluster_map} cluster map and "
    "{projects} candidate projects.":
        "<b>{name}</b> ({description}) รันด้วยค่าเมล็ดสุ่ม (seed) {seed} บนแผนที่กลุ่มจังหวัด "
        "{cluster_map} และโครงการที่เสนอ {projects} โครงการ",
    "The portfolio optimisation is <b>{status}</b>": "ผลการหาชุดโครงการที่ดีที่สุด: <b>{status}</b>",
    ": {n} projects funded, total benefit {benefit}.":
        " มีโครงการได้รับงบประมาณ {n} โครงการ ประโยชน์รวม {benefit}",
    "Over {years} simulated fiscal year{plural}, on average {disbursed} of {allocated} was disbursed "
    "a year ({unfunded} funded no project: the proposals left cost more than their holder's money left or lacked local co-funding; {lapsed} lapsed in execution); "
    "{duplicates} duplicated projects were approved a year; projects waited "
    "{wait} days from the Budget Act to their first payment and change approvals took {change} days.":
        "ตลอด {years} ปีงบประมาณที่จำลอง เบิกจ่ายเฉลี่ยปีละ {disbursed} จาก {allocated} "
        "(ไม่ได้จัดสรรให้โครงการใด {unfunded} เพราะโครงการที่เหลือมีวงเงินเกินเงินคงเหลือของผู้ถือเงินหรือขาดเงินสมทบจากท้องถิ่น; ตกพับระหว่างดำเนินการ {lapsed}) อนุมัติโครงการซ้ำซ้อนเฉลี่ยปีละ {duplicates} โครงการ "
        "โครงการรอเฉลี่ย {wait} วันนับจาก พ.ร.บ. งบประมาณถึงการเบิกจ่ายครั้งแรก "
        "และการอนุมัติเปลี่ยนแปลงโครงการใช้เวลา {change} วัน",
    "Across {n} Monte Carlo replicates, effective benefit was {mean} a year (95% CI {low} to {high}).":
        "จากการจำลองมอนติคาร์โล {n} รอบ ประโยชน์ที่เกิดขึ้นจริงเท่ากับปีละ {mean} "
        "(ช่วงความเชื่อมั่น 95% {low} ถึง {high})",
    "The portfolio solution is <b>not a proven optimum</b>: read its numbers as a feasible plan, "
    "not the best one.":
        "คำตอบชุดโครงการ<b>ยังไม่ได้พิสูจน์ว่าดีที่สุด</b> ให้อ่านตัวเลขเป็นแผนที่ทำได้ "
        "ไม่ใช่แผนที่ดีที่สุด",
    "Allocation LP: {status}.": "แบบจำลองการจัดสรร (LP): {status}",
    "Amounts in million THB by province, source and cluster. The LP is the continuous relaxation "
    "of project selection: each source funds only the projects its rules allow (ministry budgets "
    "ministries' projects, local grants co-funded local projects, province and cluster budgets area "
    "projects, private money projects with a private partner), and benefit comes only from money "
    "spent on candidate projects, so its optimum bounds what any portfolio can deliver with the "
    "same money.":
        "จำนวนเงินเป็นล้านบาท แยกตามจังหวัด แหล่งงบประมาณ และกลุ่มจังหวัด แบบจำลอง LP คือการผ่อนคลายแบบต่อเนื่อง"
        "ของการคัดเลือกโครงการ: แต่ละแหล่งงบประมาณให้ทุนได้เฉพาะโครงการที่หลักเกณฑ์อนุญาต (งบกระทรวงสำหรับโครงการ"
        "ของกระทรวง เงินอุดหนุนเฉพาะกิจสำหรับโครงการท้องถิ่นที่มีเงินสมทบ งบจังหวัดและงบกลุ่มจังหวัดสำหรับโครงการเชิงพื้นที่ "
        "เงินเอกชนสำหรับโครงการที่มีภาคเอกชนร่วม) และประโยชน์เกิดจากเงินที่ใช้กับโครงการที่เสนอเท่านั้น "
        "ค่าที่ดีที่สุดจึงเป็นขอบเขตบนของสิ่งที่ชุดโครงการใดๆ ทำได้ด้วยเงินจำนวนเดียวกัน",
    "Shadow prices: the benefit one more million THB of each limit would buy (HiGHS's duals "
    "of the LP; 0 where the limit does not bind). Envelopes, and the ten most valuable "
    "province limits:":
        "ราคาเงา: ประโยชน์ที่ได้เพิ่มหากวงเงินแต่ละรายการเพิ่มขึ้น 1 ล้านบาท (ค่าคู่กันของ LP จาก HiGHS; "
        "เป็น 0 เมื่อวงเงินนั้นไม่เต็ม) แสดงวงเงินระดับประเทศ และวงเงินระดับจังหวัดที่มีค่าสูงสุด 10 รายการ:",
    "Formula allocations against the LP optimum: each formula splits every envelope (after "
    "the per-capita floor) by its weights and each area then funds its best projects under "
    "the same rules, so no formula can exceed 100 %:":
        "การจัดสรรตามสูตรเทียบกับค่าที่ดีที่สุดของ LP: แต่ละสูตรแบ่งวงเงิน (หลังจากขั้นต่ำต่อหัว) ตามน้ำหนักของสูตร "
        "แล้วแต่ละพื้นที่เลือกโครงการที่ดีที่สุดภายใต้หลักเกณฑ์เดียวกัน จึงไม่มีสูตรใดเกิน 100 %:",
    "Hindcast: which rule predicts FY2569": "การพยากรณ์ย้อนหลัง: หลักเกณฑ์ใดทำนายปีงบประมาณ 2569 ได้ดีที่สุด",
    "Each allocation rule is given the real FY2569 provincial total and predicts its split "
    "from FY2568 data; errors are against the real FY2569 budgets. {best} predicts best "
    "(mean absolute error {mape:.1f} %, rank correlation {rho:.2f}). Rules marked "
    "'illustrative inputs' rest on the synthetic catalogue or drawn plan scores. The real "
    "year-on-year changes of the 94 provinces and clusters have kurtosis {kurt:.1f} (3 for a "
    "normal distribution) and range from {lo:+.1f} % to {hi:+.1f} %.":
        "แต่ละหลักเกณฑ์การจัดสรรได้รับยอดรวมงบจังหวัดจริงของปีงบประมาณ 2569 และทำนายการแบ่งให้แต่ละจังหวัดจากข้อมูลปี 2568 "
        "ความคลาดเคลื่อนวัดเทียบกับงบประมาณจริงปี 2569 หลักเกณฑ์ {best} ทำนายได้ดีที่สุด (ความคลาดเคลื่อนสัมบูรณ์เฉลี่ย "
        "{mape:.1f} % สหสัมพันธ์ของอันดับ {rho:.2f}) หลักเกณฑ์ที่ระบุว่า 'illustrative inputs' อาศัยข้อมูลโครงการสังเคราะห์"
        "หรือคะแนนแผนที่สุ่มขึ้น การเปลี่ยนแปลงจริงรายปีของ 94 จังหวัดและกลุ่มจังหวัดมีค่าความโด่ง {kurt:.1f} "
        "(การแจกแจงปกติเท่ากับ 3) และอยู่ระหว่าง {lo:+.1f} % ถึง {hi:+.1f} %",
    "mape_pct": "ความคลาดเคลื่อนสัมบูรณ์เฉลี่ย (%)",
    "spearman": "สหสัมพันธ์ของอันดับ",
    "median_ape_pct": "ค่ามัธยฐานความคลาดเคลื่อน (%)",
    "max_ape_pct": "ความคลาดเคลื่อนสูงสุด (%)",
    "worst_province": "จังหวัดที่คลาดเคลื่อนมากที่สุด",
    "inputs": "ข้อมูลนำเข้า",
    "Near-optimal alternatives": "ทางเลือกที่ใกล้เคียงค่าที่ดีที่สุด",
    "Portfolios within {slack:.0%} of the optimum's benefit, each as different as possible "
    "from the optimum and from the ones before (portfolio 0 is the optimum). Provinces whose "
    "least money within that slack is positive are must-fund; the others are negotiable.":
        "ชุดโครงการที่ให้ประโยชน์ไม่ต่ำกว่าค่าที่ดีที่สุดเกิน {slack:.0%} โดยแต่ละชุดต่างจากชุดที่ดีที่สุดและชุดก่อนหน้าให้มากที่สุด "
        "(ชุด 0 คือชุดที่ดีที่สุด) จังหวัดที่ได้รับเงินขั้นต่ำเป็นบวกในทุกชุดคือจังหวัดที่ต้องได้รับงบ ส่วนที่เหลือต่อรองได้",
    "Projects that some near-optimal portfolios fund and others do not (largest benefit "
    "first; 1 = funded):": "โครงการที่บางชุดให้ทุนแต่บางชุดไม่ให้ (เรียงตามประโยชน์มากไปน้อย; 1 = ได้รับทุน):",
    "portfolio": "ชุดโครงการ",
    "shared_with_optimum": "โครงการที่ซ้ำกับชุดที่ดีที่สุด",
    "jaccard_with_optimum": "ดัชนีความเหมือนกับชุดที่ดีที่สุด",
    "optimum_mthb": "เงินในชุดที่ดีที่สุด (ล้านบาท)",
    "min_found_mthb": "ต่ำสุดที่พบ (ล้านบาท)",
    "max_found_mthb": "สูงสุดที่พบ (ล้านบาท)",
    "min_bound_mthb": "ขอบล่าง (ล้านบาท)",
    "max_bound_mthb": "ขอบบน (ล้านบาท)",
    "kind": "ประเภท",
    "gap": "ช่องว่าง",
    "one more million THB of {source} buys {value} M THB of benefit":
        "{source} ที่เพิ่มขึ้น 1 ล้านบาทให้ประโยชน์เพิ่ม {value} ล้านบาท",
    "more {source} buys nothing (its envelope is not spent in full)":
        "{source} ที่เพิ่มขึ้นไม่ให้ประโยชน์เพิ่ม (ยังใช้วงเงินไม่เต็ม)",
    "more {source} buys nothing although its envelope is spent in full (other "
    "rules bind first)": "{source} ที่เพิ่มขึ้นไม่ให้ประโยชน์เพิ่ม แม้จะใช้วงเงินเต็มแล้ว (หลักเกณฑ์อื่นจำกัดก่อน)",
    "The simulation spends the same envelopes, to the baht.": "แบบจำลองสถานการณ์ใช้วงเงินเดียวกัน ครบทุกบาท",
    "Licence of these figures: CC BY-NC 4.0 (WeVis).": "สัญญาอนุญาตของตัวเลขเหล่านี้: CC BY-NC 4.0 (WeVis)",
    "raising {area}'s {rule} limit by one million THB buys {value} M THB of benefit":
        "การเพิ่มวงเงิน{rule}ของ{area} 1 ล้านบาทให้ประโยชน์เพิ่ม {value} ล้านบาท",
    "absorption": "ขีดความสามารถในการใช้จ่าย",
    "ceiling": "เพดาน",
    "floor": "ขั้นต่ำต่อหัว",
    "envelope": "วงเงินระดับประเทศ",
    "cluster_envelope": "วงเงินกลุ่มจังหวัด",
    "Lapsed money per head (THB a year)": "งบประมาณที่ตกพับต่อหัว (บาทต่อปี)",
    "Duplicated projects approved (a year)": "โครงการซ้ำซ้อนที่อนุมัติ (ต่อปี)",
    "Citizen satisfaction (final year)": "ความพึงพอใจของประชาชน (ปีสุดท้าย)",
    "share": "สัดส่วน",
    "Allocation LP: money per head (THB, four sources)": "แบบจำลองการจัดสรร: เงินต่อหัว (บาท จากสี่แหล่ง)",
    "Real provincial budget per head, FY{year} (THB)": "งบจังหวัดจริงต่อหัว ปีงบประมาณ {year} (บาท)",
    "Hindcast error of the best rule ({rule}), % of the real FY2569 budget":
        "ความคลาดเคลื่อนของการพยากรณ์ย้อนหลังของหลักเกณฑ์ที่ดีที่สุด ({rule}) เป็น % ของงบจริงปี 2569",
    "Next to it, the simulation under the incremental rule (last year's money less a share of "
    "what lapsed, {n} year-on-year changes of {units} provinces and clusters): kurtosis "
    "{kurt:.1f}, standard deviation {sd:.1f} % (real: {rkurt:.1f} and {rsd:.1f} %).":
        "เทียบกับแบบจำลองสถานการณ์ภายใต้หลักเกณฑ์แบบส่วนเพิ่ม (เงินปีก่อนหักส่วนหนึ่งของเงินที่ตกพับ "
        "การเปลี่ยนแปลงรายปี {n} ค่า ของ {units} จังหวัดและกลุ่มจังหวัด): ค่าความโด่ง {kurt:.1f} "
        "ส่วนเบี่ยงเบนมาตรฐาน {sd:.1f} % (ของจริง: {rkurt:.1f} และ {rsd:.1f} %)",
    "Year-on-year budget changes (%)": "การเปลี่ยนแปลงงบประมาณรายปี (%)",
    "real FY2568→FY2569": "ของจริง ปี 2568→2569",
    "simulated, incremental rule": "แบบจำลอง หลักเกณฑ์แบบส่วนเพิ่ม",
    "units": "หน่วย",
    "This run's allocation rule is '{rule}': the simulation's budget holders get that rule's "
    "split of the envelopes, and the LP's allocation shown here is what the optimiser would do "
    "with the same money (the table of formula allocations below compares them).":
        "หลักเกณฑ์การจัดสรรของการรันนี้คือ '{rule}': ผู้ถือวงเงินในแบบจำลองสถานการณ์ได้รับเงินตามการแบ่งของหลักเกณฑ์นั้น "
        "ส่วนการจัดสรรของ LP ที่แสดงนี้คือสิ่งที่แบบจำลองหาค่าที่ดีที่สุดจะทำด้วยเงินจำนวนเดียวกัน "
        "(ตารางการจัดสรรตามสูตรด้านล่างเปรียบเทียบทั้งสอง)",
    "In the allocation LP, {sentences}.": "ในแบบจำลองการจัดสรร (LP): {sentences}",
    "the provincial envelope ({amount}) is the real FY{year} total of the 76 provinces' "
    "own budgets": "วงเงินจังหวัด ({amount}) คือยอดรวมงบจังหวัดจริงของ 76 จังหวัด ปีงบประมาณ {year}",
    "the cluster envelope ({amount}) is the real FY{year} total of the 18 clusters' "
    "budgets": "วงเงินกลุ่มจังหวัด ({amount}) คือยอดรวมงบกลุ่มจังหวัดจริงของ 18 กลุ่ม ปีงบประมาณ {year}",
    "Real figures: {list} (budget bills via WeVis open-budget data).":
        "ตัวเลขจริง: {list} (ร่างพระราชบัญญัติงบประมาณรายจ่าย จากข้อมูลงบประมาณเปิดของ WeVis)",
    "No money figure in this scenario is a real budget amount.":
        "ไม่มีตัวเลขงบประมาณในฉากทัศน์นี้ที่เป็นงบประมาณจริง",
    "Assumed (illustrative): ministries' function budgets, grants to local governments, "
    "private money, floors, ceilings, absorption capacities, and every project's cost "
    "and benefit.": "ตัวเลขสมมติ (เพื่อการอธิบาย): งบประมาณตามภารกิจของกระทรวง เงินอุดหนุนองค์กรปกครองส่วนท้องถิ่น "
    "เงินเอกชน ขั้นต่ำ เพดาน ขีดความสามารถในการใช้จ่าย และต้นทุนกับประโยชน์ของทุกโครงการ",
    "Portfolio MILP over {n} candidate projects: {status}; solve time {seconds} s; rules: {rules}.":
        "แบบจำลองชุดโครงการ (MILP) จากโครงการที่เสนอ {n} โครงการ: {status} "
        "เวลาคำนวณ {seconds} วินาที หลักเกณฑ์ที่ใช้: {rules}",
    "How far each allocation rule is from the optimum (same rules, same projects):":
        "หลักเกณฑ์การจัดสรรแต่ละแบบห่างจากค่าที่ดีที่สุดเท่าใด (หลักเกณฑ์และโครงการเดียวกัน):",
    "<b>{baseline}</b> was compared with {reforms} on {n} common random-number replicates; "
    "differences are reform − baseline with {confidence} confidence intervals.":
        "เปรียบเทียบ <b>{baseline}</b> กับ {reforms} ด้วยการจำลอง {n} รอบบนเลขสุ่มชุดเดียวกัน "
        "ผลต่างคือ การปฏิรูป − กรณีฐาน พร้อมช่วงความเชื่อมั่น {confidence}",
    "{name} shows no clear change in any metric.": "{name} ไม่มีตัวชี้วัดใดเปลี่ยนแปลงอย่างชัดเจน",
    "Files (base first): {files}. Inherited values are resolved below.":
        "ไฟล์ (ไฟล์ฐานก่อน): {files} ค่าที่สืบทอดแสดงไว้ด้านล่างแล้ว",
    "Made by allocsim. Every number that is not a reference fact is produced by scenario parameters "
    "labelled illustrative; see the scenario section.":
        "จัดทำโดย allocsim ตัวเลขทุกตัวที่ไม่ใช่ข้อเท็จจริงอ้างอิงมาจากพารามิเตอร์ของฉากทัศน์ "
        "ซึ่งระบุว่าเป็นค่าสมมติ (illustrative) ดูหัวข้อฉากทัศน์",
    "How much of the plan was delivered": "แผนส่งมอบได้จริงเท่าใด",
    "{share} of the planned benefit reached citizens ({planned} M THB of projects planned). "
    "Of {money} M THB allocated over {years} years and {carried_in} M THB carried in, "
    "{disbursed} M THB was disbursed, {carried} M THB carried over, {lapsed} M THB lapsed in "
    "execution and {unfunded} M THB funded no project ({cofund} M THB of it with holders whose "
    "proposals left fitted their money but lacked local co-funding); {horizon} M THB was still "
    "carried over at the end of the last year, paying beyond the horizon (the delivered share "
    "cannot count it yet); "
    "{dups} duplicate projects were funded.":
        "ประโยชน์ตามแผน {share} ถึงประชาชน (โครงการตามแผน {planned} ล้านบาท) จากงบที่จัดสรร {money} ล้านบาท "
        "ใน {years} ปี และเงินกันเหลื่อมปีที่ยกมา {carried_in} ล้านบาท เบิกจ่ายแล้ว {disbursed} ล้านบาท "
        "กันเหลื่อมปี {carried} ล้านบาท ตกพับระหว่างดำเนินการ {lapsed} ล้านบาท และไม่ได้จัดสรรให้โครงการใด "
        "{unfunded} ล้านบาท (ในจำนวนนี้ {cofund} ล้านบาทอยู่กับผู้ถือเงินที่โครงการที่เหลือมีวงเงินพอแต่ขาดเงินสมทบจากท้องถิ่น) "
        "ณ สิ้นปีสุดท้ายยังมีเงินกันเหลื่อมปี {horizon} ล้านบาทซึ่งจะเบิกจ่ายหลังช่วงเวลาที่จำลอง "
        "(สัดส่วนที่ส่งมอบได้ยังนับเงินส่วนนี้ไม่ได้) มีโครงการซ้ำซ้อนได้รับงบ {dups} โครงการ",
    "% of the planned benefit delivered": "% ของประโยชน์ตามแผนที่ส่งมอบได้",
    "plan_delivered_share": "สัดส่วนประโยชน์ตามแผนที่ส่งมอบได้",
    "plan_disbursed_share": "สัดส่วนงบตามแผนที่เบิกจ่ายได้",
    "planned_benefit_thb": "ประโยชน์ตามแผน",
    "delivered_benefit_thb": "ประโยชน์ที่ส่งมอบได้",
    "delivered_share": "สัดส่วนที่ส่งมอบได้",
    "unfunded_cofunding_thb": "เงินที่ไม่ได้จัดสรรเพราะขาดเงินสมทบจากท้องถิ่น",
    "carried_out_at_horizon_thb": "เงินกันเหลื่อมปี ณ สิ้นช่วงเวลาที่จำลอง",
    "not_funded_reason": "เหตุที่ไม่ได้รับงบ",
    "planned_thb": "งบตามแผน",
    "unfunded_thb": "งบที่ไม่ได้จัดสรรให้โครงการ",
    "carried_in_thb": "เงินกันเหลื่อมปีที่ยกมา",
    "cluster_money_thb": "งบกลุ่มจังหวัดสำหรับโครงการในจังหวัด",
    "returned_thb": "งบประมาณที่ส่งคืนคลัง",
    "duplicates_funded": "โครงการซ้ำซ้อนที่ได้รับงบ",
    "mean_days_to_first_payment": "วันเฉลี่ยถึงการเบิกจ่ายครั้งแรก",
    "baseline/reform correlation": "สหสัมพันธ์กรณีฐาน/การปฏิรูป",
}


def t(text: str, lang: str = "en") -> str:
    """``text`` in ``lang``. Thai needs an entry in :data:`TH` (a missing one is a bug, caught by
    the Thai report test), English is the key itself."""
    if lang == "en":
        return text
    if lang != "th":
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return TH[text]
