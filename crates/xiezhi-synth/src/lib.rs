//! A deterministic synthetic province: one Chinese province with its real GB/T 2260 divisions and
//! its political-legal organs, and N criminal cases flowing police → procuratorate → court →
//! prison or community corrections. Each department's export is written in that department's
//! own native shape, with a configurable share of dirty records, plus a ground-truth file that
//! says, for every record, which true case and person it is about, which defect it carries and
//! what an ingest should do with it.
//!
//! ```no_run
//! use xiezhi_synth::{generate, truth, SynthConfig};
//! let out = std::path::Path::new("/tmp/province");
//! let summary = generate(&SynthConfig { seed: 7, cases: 1_000, ..SynthConfig::default() }, out)?;
//! println!("{} persons, {} dirty records", summary.persons, summary.dirty_records);
//! let truth = truth::read(out)?;
//! let departments = ["police", "procuratorate", "court", "justice"];
//! assert_eq!(truth.len(), summary.files.iter().filter(|f| departments.contains(&f.source.as_str())).map(|f| f.records).sum::<usize>());
//! # Ok::<(), xiezhi_synth::SynthError>(())
//! ```
//!
//! Architecture invariant: the output depends on `(seed, cases, dirty_rate, province)` alone.
//! No wall clock, no unseeded randomness (ChaCha8 streams derived from the seed), no hash-map
//! iteration order, no libm floats: the same configuration gives byte-identical files on every
//! machine. The clean content does not depend on `dirty_rate` (dirty choices use their own
//! streams). May import `xiezhi-standard` only.
//!
//! # The world
//!
//! * Cases happen 2021-01-01..=2024-12-31 in a county-level division of the province; case ids
//!   `T000001`… follow the day of the offence. 80 % have one suspect, 15 % two, 5 % three.
//! * Charges follow domain-facts §2.1–2.2: 危险驾驶罪 ≈ 18 %, 盗窃罪 13 %, 帮助信息网络犯罪活动罪
//!   10 %, then 掩饰、隐瞒犯罪所得、犯罪所得收益罪, 诈骗罪, 开设赌场罪, 故意伤害罪, 寻衅滋事罪,
//!   走私、贩卖、运输、制造毒品罪, 交通肇事罪 and a tail of 29 others (no 贪污 / 受贿: the
//!   supervision commissions investigate those); names are looked up in the standard's charge
//!   table at run time, and a charge is only used for acts on days it is in force (袭警罪 from
//!   2021-03-01). About 4 % of cases carry a second charge.
//! * Persons (`P000001`…) have valid 18-digit IDs (household division mostly in the province,
//!   about 12 % elsewhere in China), birth 1950–2005 and adult at the act, sex consistent with
//!   digit 17, GB/T 3304 ethnicity (mostly 汉族; Guizhou's 苗族, 布依族, 侗族, 土家族 …), a
//!   name unique together with birth date and household division, an address and a mobile
//!   number. About 2 % of persons are repeat offenders appearing in two cases (same ID, same
//!   name); their second case may carry 累犯 or 前科.
//! * Flow: police file every case; ≈ 90 % are transferred for prosecution; ≈ 90 % of those are
//!   prosecuted (the rest not prosecuted); ≈ 95 % of prosecuted cases are judged (the rest are
//!   pending: no court record). Stage outcomes are per case; sentences per defendant.
//! * Dates are in procedural order and, but for planted violations, inside the statutory
//!   limits: 立案 0–10 days after the offence; 刑事拘留 0–3 days after 立案; 提请批捕 1–7 days
//!   after 拘留 (a quarter of the suspects never detained: 5–30 days after 立案); 批捕 or 不批捕 (88 : 12)
//!   1–7 days after (1–15 for a suspect not detained); 移送审查起诉 15–60 days after the last
//!   police act (always, for a suspect detained or arrested); 退回补充侦查 (≤ 2) 15–30 days into
//!   review, resubmitted 10–30 days later; 提起公诉 or 不起诉 5–40 days after the transfer, or
//!   5–30 after the last resubmission; 法院收案 1–5 days after 起诉; 宣判 within 3 months
//!   (速裁 / 简易 / 普通); 生效 10 days after 宣判; 交付执行 1–10 days after 生效; 社区矫正报到
//!   1–10 days after 生效, 入监 1–20 days after 交付执行. Every date is on or before the export
//!   date 2026-09-30.
//! * Supervision ground truth ([`violations`]): 2.5 % of each applicable gap is planted late
//!   and 2.5 % lands exactly on the last lawful day; 20 % of cases returned twice get a third
//!   return; 2.5 % of arrests have no request on record, 2.5 % of judgments no 生效, and half
//!   the 累犯 with a term that could be suspended are given probation (刑法 第74条); 2.5 % of
//!   prosecutions have no 移送审查起诉 on record and 2.5 % of trials no 提起公诉; 10 % of first
//!   offenders with a term of 37–60 months are given probation (第72条), and 2.5 % of
//!   suspended terms of 13–36 months a probation period one month short (第73条). Of the
//!   unsuspended single-charge terms, 2.5 % of 拘役 get 7 months and 2.5 % exactly 6 (第42条),
//!   20 % of 管制 get 25 months and 20 % exactly 24 (第38条): violations and near-misses. Of the
//!   other unsuspended single-charge 危险驾驶罪 sentences of 拘役, 10 % become a fixed term of 7
//!   months (its article, 第一百三十三条之一, provides 拘役 only: 第62条) and 10 % 拘役 of exactly
//!   6 months (the near-miss). Of the unsuspended single-charge fixed terms for 盗窃罪 under
//!   10,000 yuan (its article reaches 无期徒刑), 1.5 % become 181 months (第45条) and 1.5 % exactly
//!   180, both far from their similar cases (刑法 第5条), and 1.5 % of the rest 150 months.
//!   Of prisoners with a term of two years or more who have served a year, 2 % have commutations
//!   adding up to half the term and a month (第78条) and 2 % exactly half.
//!   `supervision-truth.jsonl` names the case, its police case number, the rule and the mark (`violation`: must fire; `near_miss`: must not).
//! * Sentences are plausible for the charge (危险驾驶罪: 拘役 1–6 months + 罚金; 盗窃罪 mostly
//!   有期徒刑 6–36 months, some 拘役 / 管制, larger amounts longer), moved by circumstances
//!   (自首, 坦白, 认罪认罚, 退赃退赔, 取得谅解, 从犯, 犯罪未遂, 累犯, 前科). About 30 % of terms of
//!   拘役 or 有期徒刑 ≤ 36 months are suspended (never for 累犯, but where planted: see below). No life or death sentences.
//! * Execution: 有期徒刑 > 12 months without probation → a prison (women to the women's
//!   prison); 管制 and every suspended sentence → the community-corrections organ of the
//!   person's county of residence; 拘役 without probation (executed by police), 有期徒刑 ≤ 12
//!   months without probation (served in the detention centre) and 免予刑事处罚 → no justice
//!   row.
//!
//! # Files (paths relative to the output directory)
//!
//! ## `organizations.csv` — platform master data, never dirty
//! UTF-8 without BOM, LF, header row. Columns
//! `org_code,name,kind,division,parent_code,credit_code,court_code`.
//! * `org_code`: 2-letter prefix + 6-digit division + 2-digit serial, e.g. `GA52010201`.
//!   Prefixes: `ZF` 政法委, `GA` 公安, `JC` 检察院, `FY` 法院, `SF` 司法局/司法厅, `JY` 监狱,
//!   `KS` 看守所, `SJ` 社区矫正机构.
//! * `kind`: the standard's organ-kind code (`zfw`, `police`, `procuratorate`, `court`,
//!   `justice_bureau`, `prison`, `detention_center`, `community_corrections`).
//! * `division`: the organ's 6-digit division (province organs and prisons `XX0000`, prefecture
//!   organs `XXYY00`).
//! * `parent_code`: the organ above — county → prefecture → province of the same kind; a
//!   看守所's parent is the county police, a 社区矫正机构's the county 司法局, a prison's the
//!   司法厅; empty for the province organs and the 政法委.
//! * `credit_code`: a valid 统一社会信用代码 of a government organ (`11` + division + …).
//!
//! Rows are ordered so that every parent precedes its children.
//! * `court_code`: courts only: `黔` (high court), `黔01` (intermediate), `黔0102` (basic).
//!
//! Organs: province 政法委, 公安厅, 人民检察院, 高级人民法院, 司法厅 and 3–6 prisons
//! (`JY520000NN`, the first the women's prison); per prefecture 公安局, 人民检察院, 中级人民法院,
//! 司法局; per county-level division 公安局 (`贵阳市公安局南明分局` in a city district),
//! 人民检察院, 人民法院 (`贵阳市南明区人民法院`), 司法局, 看守所, 社区矫正管理局. Cases are
//! handled by the county organs of the county where they happened.
//!
//! ## `police/cases.csv` — 公安 case system
//! **GBK**, CRLF, header row, RFC 4180 quoting (the summary may contain ASCII `"` and is then
//! quoted with doubled quotes). One row per (case, suspect), ordered by 立案 date. Columns:
//!
//! | column | meaning | format |
//! |---|---|---|
//! | `AJBH` | police case number, opaque | `A` + BADW division + `000000` + YYYYMM of 立案 + 4-digit sequence per unit and month (23 chars) |
//! | `AJLB` | case category | always `刑事` |
//! | `AJMC` | case name | `张某某盗窃案`, `张某某等2人盗窃案` |
//! | `AY` | charges without the trailing 罪 | `盗窃`; several joined by `;` |
//! | `FASJ` | time of the offence | `YYYYMMDDHHMMSS` |
//! | `FADD` | place of the offence | 6-digit division |
//! | `JYAQ` | summary | one Chinese sentence |
//! | `SAJE` | amount involved, yuan | `3500.00`; empty when not applicable |
//! | `LASJ` | 立案 | `YYYYMMDD` |
//! | `BADW` | handling unit | `org_code` of the county police |
//! | `XYRXM` `XYRXB` | suspect's name, sex | `男` / `女` |
//! | `XYRSFZH` | ID number | 18 characters |
//! | `XYRCSRQ` | birth date | `YYYYMMDD` |
//! | `XYRMZ` | ethnicity | full name, `汉族` |
//! | `XYRHJD` | household division | 6 digits |
//! | `XYRZZ` `XYRLXDH` | address, mobile | |
//! | `JLSJ` | 刑事拘留 | `YYYYMMDDHHMMSS` or empty |
//! | `TQPBSJ` | 提请批准逮捕 | `YYYYMMDD` or empty |
//! | `YSQSSJ` | 移送审查起诉 | `YYYYMMDD` or empty (not transferred) |
//! | `QSYJSWH` | 起诉意见书文号 cited with the transfer | `南明公诉字〔2023〕1234号` or empty |
//!
//! ## `procuratorate/cases.jsonl` — 检察 business system
//! UTF-8 JSON lines, one object per (case, defendant) received for prosecution review, ordered
//! by receipt. Keys in this order:
//! * `bmsah` 部门受案号, opaque: `南明检刑受[2023]123号` (per procuratorate and year);
//! * `gaajbh` the police `AJBH`; `ajmc` case name; `sxzm` array of full charge names
//!   (`["盗窃罪"]`);
//! * `xyr`: `{"xm": name, "zjhm": ID, "xb": "1"|"2" (GB/T 2261.1), "csrq": "YYYY-MM-DD",
//!   "mz": GB/T 3304 code "01", "hjd": 6-digit division}`;
//! * `cbdw` `org_code` of the county procuratorate;
//! * `pzdbrq` 批准逮捕 date or `null`; `slscqsrq` 受理审查起诉 (= police transfer date);
//!   `tqgsrq` 提起公诉 or `null`; `bqsrq` 不起诉 or `null` (exactly one of the two is set);
//! * `qsswh` 起诉书文号 `南明检刑诉〔2023〕45号` (parses with
//!   `xiezhi_standard::validate::case_no::parse_procuratorate_doc_no`), `null` when not
//!   prosecuted;
//! * `thbczc` array of 退回补充侦查 dates, usually empty;
//! * `lxjy` (only for a defendant who pleaded guilty, 认罪认罚, and was prosecuted and judged)
//!   the sentencing proposal: `{"tcrq": 提出日期, "jsrq": 具结日期, "zx": 建议主刑 (penalty-kind
//!   name), "xx": 刑期下限, "sx": 刑期上限 (months), "hx": 1 适用缓刑 | 0}`; the declared term lies
//!   in the range but where planted (2.5 % outside it, 2.5 % on its lower bound).
//!
//! Dates are `YYYY-MM-DD`. An empty name or ID is written as `""`.
//!
//! ## `court/judgments.xml` — 审判 system
//! UTF-8 XML, declaration, root `<判决集 生成日期="2026年3月31日">`, one `<判决>` per (case,
//! defendant) judged, ordered by 收案日期. Children, in order:
//! `<案号>` (`（2023）黔0102刑初123号`, per court and year; the court code matches the court's
//! division), `<起诉书文号>`, `<承办法院>` (`org_code` of the county court), `<收案日期>`,
//! `<开庭日期>`, `<宣判日期>`, `<生效日期>` (all `2023年3月1日`), then
//! `<被告人 证件号码="ID">` with `<姓名>`, `<性别>男|女</性别>`, `<出生日期>` (Chinese form),
//! `<户籍地>` (6-digit division); then one `<罪名>` per charge (full name), `<主刑>` (the
//! standard's penalty-kind name: `管制`, `拘役`, `有期徒刑`, `免予刑事处罚`), `<刑期月数>`
//! (absent for 免予刑事处罚), `<缓刑月数>` (only when suspended), `<罚金>` (yuan, only when
//! fined), `<量刑情节>` (the standard's circumstance names joined by `、`, absent when none).
//! Text and attributes are XML-escaped; co-defendants repeat the case elements.
//!
//! ## `justice/corrections.csv` — 司法行政 register
//! UTF-8 **with BOM**, LF, header row, one row per convict in prison or community corrections,
//! ordered by 报到日期. Columns
//! `罪犯姓名,公民身份号码,性别,判决案号,执行方式,执行机关,起始日期,届满日期,报到日期,累计减刑月数`:
//! `性别` `男`/`女`; `判决案号` the court 案号; `执行方式` `监狱` or `社区矫正`; `执行机关`
//! `org_code` of the prison or the county community-corrections organ; dates `YYYY/M/D` (no
//! zero padding). Prison: `起始日期` is the first day of custody (刑事拘留 when the suspect was
//! arrested, else 生效), `届满日期` the current expiry (after commutation). Community
//! corrections: `起始日期` = 生效, `届满日期` = end of the probation (or 管制) term. `报到日期`
//! = 入监 or 社区矫正报到; `累计减刑月数` whole months, mostly 0.
//!
//! ## Justice administration ([`justice_admin`]): `justice/*.csv`, `petitions/petitions.jsonl`
//! UTF-8 without BOM, LF, header row; dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS`,
//! coordinates in decimal degrees (WGS-84). Built after the cases from their own streams. Every
//! convict under community corrections (管制 or a suspended sentence) becomes a subject, but for
//! 漏管 (a single-defendant case, 4 % of them, whose convict the justice register — this file
//! and `justice/corrections.csv` — leaves out).
//! * `justice/correction-subjects.csv`: `姓名,公民身份号码,判决案号,矫正类别,决定机关,执行机关,
//!   执行地,生效日期,报到日期,矫正起始日期,矫正期满日期,禁止令,就业就学` (a quarter carry a
//!   禁止令; 就业就学 drawn 60 / 5 / 25 / 10 % 在业 / 在学 / 无业 / 离退休或无劳动能力).
//! * `justice/correction-events.csv`: `姓名,公民身份号码,判决案号,矫正事项,发生时间,办理机构,
//!   批准截止日期,文书号`: notice (决定机关, within 5 days), report-in and intake, check-ins every
//!   20–28 days and visits every 80–100 days while in contact, a leave for some (approved until a
//!   day), a warning and electronic monitoring for some (at most three months), revocation
//!   proposal and ruling for some (30 days), release at the end of the term and its notice.
//! * `justice/location-fixes.csv`: `设备编号,姓名,公民身份号码,判决案号,定位时间,接收时间,经度,纬度`:
//!   two fixes a day within about 1 km of home for subjects under correction in the last 60 days
//!   before the export date.
//! * `justice/fences.csv`: `姓名,公民身份号码,判决案号,围栏规则,区域名称,区域边界,生效日期,失效日期,
//!   禁止令文书号`: the county each subject may not leave (a square around the county's centre)
//!   and, with a 禁止令, a small zone he may not enter (`lon,lat;…`).
//! * `petitions/petitions.jsonl`: one object per petition (`cases / 5`), 60 % about a judged case
//!   of the province (`ah`): `xfjbh, djrq, xfxs, xflb, szd, nr, ah, xfr{xm,zjhm}, cbjg, slrq, ycts,
//!   dfrq, fcqqrq, fcyjrq, fhqqrq, fhyjrq`; acceptance within 15 days, answer within 60 (+ an
//!   extension of 10–30 for one in ten), review and re-examination within 30.
//! * `justice/mediation.csv`: `调解编号,人民调解委员会,纠纷发生地,纠纷类型,当事人数,受理日期,结案日期,
//!   调解结果,司法确认日期`: `40 × cases / 1000` a month (at least 8) over 2023-01..2026-08 spread
//!   over counties and dispute kinds, plus `max(1, cases / 500)` hot spots (one county, one kind,
//!   1–2 months from the tenth on, each month at least 8 cases and four times the usual).
//! * `justice/legal-aid.csv`: criminal defence on notice for about one prosecuted defendant in
//!   eight, and a duty lawyer (值班律师) for every other defendant who pleaded (认罪认罚) but the
//!   planted ones (4 % of single-defendant judged cases with a plea: `cpl-174-plea-without-counsel`) (`援助编号,援助形式,法律援助机构,受援人姓名,公民身份号码,起诉书文号,案号,申请日期,决定日期,
//!   审查决定,指派律师`).
//!
//! Planted marks (into `supervision-truth.jsonl`): 4 % of the applicable subjects or petitions
//! late and 4 % on the last lawful day for the notice, the petition periods; 10 % (scaled by
//! the subject's risk, below) for leave overruns, monitoring past three months and revocation
//! rulings (5 % of subjects get a revocation proposal, 15 % a warning and monitoring, both
//! scaled by risk), 20 % for fence breaches (three fixes a quarter-hour apart in the zone; the
//! near-miss is one stray fix); 脱管 as contact that stops 45–100 days before the export date, or lapses for
//! 45–100 days mid-term (the near-miss: exactly the tolerated 30); a release without notice for
//! 4 %. Subjects' misconduct (warnings, revocations, overruns, lost contact, breaches) is drawn
//! with a latent risk from age, work, a prior record and the charge
//! ([`justice_admin::risk_per_mille`]); `correction-risk-truth.jsonl` labels each subject
//! (court case number, ID number, `violated`). Bad records the ingest must quarantine are
//! extra rows listed in `justice-admin-bad-records.jsonl` (file, record, rule): a latitude off
//! the Earth and a fix dated after its receipt, a register row reporting in before the
//! judgment took effect, a petition answered before it was received.
//! `hot-spots.jsonl` lists the planted hot spots: mediation (division, dispute kind, months)
//! and petition surges (`dispute_kind` `petition`: `max(1, cases / 2000)` counties whose
//! residents hand in eight extra petitions a month for 1–2 months, none about a case).
//!
//! ## The departments' second exports ([`procedure`]): never dirty
//! UTF-8 without BOM, LF, header row, one row per act; names are the standard's Chinese names
//! (`event-kinds.tsv`, `document-kinds.tsv`, `evidence-kinds.tsv`).
//! * `police/acts.csv` — `AJBH,JDMC,FSSJ,BLDW,WSWH`: 通知家属 (after each 拘留 and 执行逮捕),
//!   取保候审 / 监视居住 of suspects never detained and 解除强制措施 when the case stays with the
//!   police, 执行逮捕 (on the day of the approval, citing its 逮捕证), 移送审查起诉 after each
//!   退回补充侦查; `FSSJ` `YYYYMMDDHHMMSS`.
//! * `police/dossier.csv` — `AJBH,WSZL,WSWH,ZZDW,ZZRQ,ZJZL,ZJMC,SJDW,SJRQ`: a document row fills
//!   `WSZL..ZZRQ` (逮捕证, 起诉意见书), an evidence row `ZJZL..SJRQ` (statements; for 盗窃罪 the
//!   价格认定结论书); dates `YYYYMMDD`.
//! * `court/acts.csv` — `案号,节点,时间,办理机构,文书号`: 适用速裁程序 / 适用简易程序 on the day of
//!   acceptance, and for appealed judgments (6 %) 上诉, the intermediate court's 法院受理 and
//!   宣判 (the judgment takes effect on it); `时间` `YYYY-MM-DD HH:MM:SS`.
//! * `justice/commutations.csv` — `判决案号,事项,日期,办理机关,文书号`: 减刑提请 (the prison) and
//!   减刑裁定 (the intermediate court), 假释提请 and 假释裁定, of sole convicts in prison.
//!
//! Planted there (rates per mille of the opportunities): notices 24 h + 1–36 h late and exactly
//! 24 h (25 + 25); lifting 1–30 days past 12 / 6 months and on the last day (200 + 200, few cases
//! stay with the police); arrests executed 1–3 days after a 不批准逮捕 in otherwise unmarked cases
//! (150); re-submissions past the month and on its last day (25 + 25); a missing 起诉意见书 or
//! 逮捕证 (25 each) and a theft without its price determination (25); first commutations before
//! the waiting time and on its day, second proposals inside the interval and on its first day
//! (150 + 150 each); paroles before half of the term and on its day (150 + 150 of the 40 % paroled),
//! and every 累犯 or long violent sentence paroled past half of the term; the 从严 groups (累犯,
//! and financial, official, organised-crime, state-security and terrorism charges by article)
//! wait two years for a first commutation; a fined prisoner's register shows the fine paid or
//! the inability to pay before the first proposal, planted missing (150) where a ruling falls
//! on or after 2024-05-01 (法释〔2024〕5号). In the case flow, on
//! their own streams: 速裁 and 简易 verdicts past the longer limit and on the shorter one's last
//! day, second-instance verdicts past two months and on the last day (25 + 25); single-charge
//! fixed terms for 抢劫罪, 强奸罪, and 盗窃罪 / 诈骗罪 from 100,000 yuan with no statutory
//! mitigation: 33 months and exactly 36 (100 + 100). Terms otherwise respect the band's minimum
//! (刑法 第63条), or 60 % of it with a statutory mitigation.
//!
//! ## `ground-truth.jsonl`
//! One [`truth::TruthRecord`] per data record of the four department files, in file order
//! (police, procuratorate, court, justice):
//! `{"source":"police","file":"police/cases.csv","record":1,"case":"T000123","person":"P000456","defect":null,"expect":"accepted"}`.
//! `record` is the 1-based data-record number in its file (CSV data row without the header,
//! JSONL line, index of the `<判决>` element).
//!
//! ## `supervision-truth.jsonl`
//! One [`violations::SupervisionTruth`] per case and rule with a planted mark, in case order:
//! `{"case":"T000123","police_case_no":"A5201…","rule":"cpl-091-arrest-request","mark":"violation"}`.
//! `violation`: the rule must report the case; `near_miss`: the act fell on the last lawful
//! day and the rule must not.
//!
//! ## `case-numbers.tsv`
//! Every true case id and its police case number, tab-separated, in case order.
//!
//! ## `surge-truth.jsonl`
//! Early-warning ground truth ([`surges`]): in a province of at least 100 cases,
//! `max(1, cases / 1000)` surges, each 2–3 consecutive weeks (from 2022 on) in which one county
//! gets 3–6 extra cases a week of one charge (盗窃罪, 诈骗罪, 帮助信息网络犯罪活动罪, 寻衅滋事罪 or
//! 故意伤害罪). The extra cases come out of the case budget and are generated like every other
//! case (flow, persons, planted marks, dirty records). One line per surge: division, charge,
//! the weeks of 立案 (Monday, index from 2020-12-28) with the cases planted in each, and the
//! planted cases' ids and police case numbers.
//!
//! ## `co-offending-groups.jsonl`
//! Link-analysis ground truth ([`groups`]): in a province of at least 100 cases,
//! `max(1, cases / 200)` co-offending groups of 3–8 persons, each taking over several existing
//! two- and three-suspect cases (numbers of suspects, dates and marks unchanged) and sharing
//! one or two phones and addresses. One line per group: members (`P…`), cases (`T…`), phones,
//! addresses.
//!
//! ## `manifest.json`
//! Generator name and version, seed, cases, persons, dirty rate, province, export date, dirty
//! record count and every file above with its record count and SHA-256 (the same list as
//! [`SynthSummary::files`]). Pretty-printed, deterministic.
//!
//! # Dirty records
//!
//! Each record of the four department files is dirty with probability `dirty_rate`, with at
//! most one defect, named in the ground truth. The kind is the least used so far among those
//! that apply to the record (so all kinds appear even in small runs).
//!
//! | defect | what is written | expect |
//! |---|---|---|
//! | `bad_checksum` | the ID's check character replaced by a wrong one | quarantined |
//! | `impossible_date` | a day that does not exist (2月30日, 4月31日 …) in the source's own format: police `LASJ`, procuratorate `slscqsrq`, court `<宣判日期>`, justice `起始日期` | quarantined |
//! | `dates_out_of_order` | police `YSQSSJ` (or, if not transferred, `TQPBSJ`) before `LASJ`; procuratorate `tqgsrq` (or `bqsrq`) before `slscqsrq`; court `<宣判日期>` before `<收案日期>`; justice `届满日期` before `起始日期` | quarantined |
//! | `unknown_code` | police: `AY` misspelt (`盗切`), `XYRMZ` `穿青人`, or `XYRHJD` a division that does not exist (`529999`); procuratorate: a misspelt charge in `sxzm` (`盗切罪`), `mz` `57`, or `hjd` `529999`; court: a misspelt `<罪名>` or `<户籍地>` `529999`; justice: `执行方式` `劳动改造` | quarantined |
//! | `missing_field` | the person's name empty | quarantined |
//! | `mojibake` | police: the name's last character cut to its GBK lead byte, so the line does not decode as GBK (the rest of the line is intact); UTF-8 files: the name's UTF-8 bytes read as Latin-1 (`张三` → `å¼\u{a0}ä¸\u{89}`) | quarantined |
//! | `lowercase_x` | an ID ending in `X` written with `x` | repaired |
//! | `legacy_id15` | the ID in the legacy 15-digit form (persons born before 2000) | repaired |
//! | `name_whitespace` | an ASCII space or U+3000 inside the name, or (not in the XML) before or after it | repaired |
//! | `missing_id` | the ID empty; birth date and household division still present (never in the justice file, which has no birth date) | accepted |
//! | `duplicate_row` | an exact copy of the previous (clean) record; the copy carries the defect | accepted |
//!
//! Clean records have `"defect":null,"expect":"accepted"`. A repaired or duplicated record
//! still refers to the same true person.

mod cases;
mod charges;
mod dirty;
mod export;
pub mod groups;
pub mod justice_admin;
mod people;
pub mod procedure;
mod province;
mod sentence;
pub mod surges;
pub mod truth;
mod util;
pub mod violations;

pub use export::justice_admin::{
    read_bad_records, read_hot_spots, read_risk_truth, BadRecord, RiskTruth, BAD_RECORDS,
    HOT_SPOTS, RISK_TRUTH,
};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub seed: u64,
    pub cases: usize,
    /// Share of department records given a defect, 0..=1.
    pub dirty_rate: f64,
    /// Two-digit GB/T 2260 province code.
    pub province: String,
}

impl Default for SynthConfig {
    /// Seed 42, 1,000 cases, 3 % dirty, 贵州 (`52`).
    fn default() -> Self {
        SynthConfig {
            seed: 42,
            cases: 1_000,
            dirty_rate: 0.03,
            province: "52".to_string(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthSummary {
    pub cases: usize,
    /// Distinct persons named in a case (a repeat offender counts once; a person whose
    /// case slots a co-offending group took over is named in none).
    pub persons: usize,
    /// Every file but `manifest.json`, in writing order: organizations, the four department
    /// exports, ground truth, supervision ground truth.
    pub files: Vec<FileSummary>,
    /// Records of the department files that carry a defect (duplicate copies included).
    pub dirty_records: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the output directory, `/`-separated.
    pub path: String,
    /// `organizations`, `police`, `procuratorate`, `court`, `justice`, `truth`, `supervision`,
    /// `surges` or `groups`.
    pub source: String,
    /// Data records (header excluded).
    pub records: usize,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid synthetic-province configuration: {0}")]
    Config(String),
    #[error("the charge table holds none of the synthetic charges")]
    NoCharges,
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` line {line}: {source}", .path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("`{}`: `{text}` cannot be encoded in GBK", .path.display())]
    Encoding { path: PathBuf, text: String },
}

impl SynthError {
    pub(crate) fn write(path: &Path, source: std::io::Error) -> SynthError {
        SynthError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Generates the province into `out_dir` (created if missing; existing files are replaced).
pub fn generate(config: &SynthConfig, out_dir: &Path) -> Result<SynthSummary, SynthError> {
    generate_with_progress(config, out_dir, &mut |_| {})
}

/// As [`generate`], reporting the number of cases done now and then; the last report,
/// `config.cases`, comes once every file is written.
pub fn generate_with_progress(
    config: &SynthConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<SynthSummary, SynthError> {
    if !(0.0..=1.0).contains(&config.dirty_rate) {
        return Err(SynthError::Config(format!(
            "dirty rate `{}` is not between 0 and 1",
            config.dirty_rate
        )));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| SynthError::write(out_dir, e))?;
    let mut world = cases::build(config, progress)?;
    let groups = groups::plant(&mut world, config.seed);
    let admin = justice_admin::build(&mut world, config.seed);
    let acts = procedure::build(&mut world, config.seed);

    let (seed, rate) = (config.seed, config.dirty_rate);
    let mut files = vec![export::organs::write(&world.province, out_dir)?];
    let mut truth = export::Truth::create(out_dir)?;
    files.push(export::police::write(
        &world, &acts, out_dir, seed, rate, &mut truth,
    )?);
    files.push(export::procuratorate::write(
        &world, &acts, out_dir, seed, rate, &mut truth,
    )?);
    files.push(export::court::write(
        &world, out_dir, seed, rate, &mut truth,
    )?);
    files.push(export::justice::write(
        &world, out_dir, seed, rate, &mut truth,
    )?);
    let dirty_records = truth.dirty;
    files.push(truth.out.finish()?);
    files.extend(export::justice_admin::write(&world, &admin, out_dir)?);
    files.extend(export::acts::write(&world, &acts, out_dir)?);
    files.push(export::write_supervision_truth(&world, &admin, out_dir)?);
    files.push(export::write_case_numbers(&world, out_dir)?);
    files.push(export::write_surge_truth(&world, out_dir)?);
    files.push(export::write_group_truth(&groups, out_dir)?);

    let summary = SynthSummary {
        cases: world.cases.len(),
        persons: world.persons.iter().filter(|p| p.cases > 0).count(),
        files,
        dirty_records,
    };
    write_manifest(config, &summary, out_dir)?;
    progress(config.cases);
    Ok(summary)
}

#[derive(Serialize)]
struct Manifest<'a> {
    generator: String,
    seed: u64,
    cases: usize,
    persons: usize,
    dirty_rate: f64,
    province: &'a str,
    export_date: String,
    dirty_records: usize,
    files: &'a [FileSummary],
}

fn write_manifest(
    config: &SynthConfig,
    summary: &SynthSummary,
    out_dir: &Path,
) -> Result<(), SynthError> {
    let manifest = Manifest {
        generator: format!("xiezhi-synth {}", env!("CARGO_PKG_VERSION")),
        seed: config.seed,
        cases: summary.cases,
        persons: summary.persons,
        dirty_rate: config.dirty_rate,
        province: &config.province,
        export_date: cases::export_date().format("%Y-%m-%d").to_string(),
        dirty_records: summary.dirty_records,
        files: &summary.files,
    };
    let path = out_dir.join("manifest.json");
    let mut text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| SynthError::write(&path, std::io::Error::other(e)))?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| SynthError::write(&path, e))
}
