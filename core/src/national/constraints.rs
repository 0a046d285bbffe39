//! Pure interpretation of the official constraint texts (限定条件, 内涵, detection logic) into
//! template parameters. Every function takes text and returns the parameter, or `None` when the
//! text does not say it clearly; the caller reports a `None` as "not interpreted", never guesses.
//!
//! This module does no IO and builds no rules.

/// Sex codes as the `sex` template reads them.
pub const MALE: &str = "1";
/// Female.
pub const FEMALE: &str = "2";

const FEMALE_WORDS: &[&str] = &[
    "女",
    "妇",
    "月经",
    "经期",
    "痛经",
    "闭经",
    "经行",
    "经水",
    "经量",
    "经血",
    "经前",
    "调经",
    "带下",
    "白带",
    "阴道",
    "外阴",
    "阴痒",
    "宫颈",
    "子宫",
    "暖宫",
    "宫寒",
    "宫缩",
    "卵巢",
    "输卵管",
    "排卵",
    "盆腔",
    "附件",
    "乳腺",
    "乳房",
    "乳痈",
    "乳癖",
    "乳汁",
    "乳少",
    "催乳",
    "缺乳",
    "下乳",
    "生乳",
    "奶汁",
    "妊娠",
    "孕",
    "产后",
    "产妇",
    "产褥",
    "分娩",
    "胎",
    "哺乳",
    "绝经",
    "更年期",
    "流产",
    "恶露",
    "崩漏",
    "坤",
    "滴虫",
];
const MALE_WORDS: &[&str] = &[
    "前列腺",
    "男",
    "阳痿",
    "勃起",
    "早泄",
    "睾丸",
    "阴茎",
    "精子",
    "遗精",
    "滑精",
    "精液",
    "少精",
    "弱精",
    "阴囊",
    "附睾",
    "阳事",
    "雄激素缺乏",
    "性腺功能减退",
];

fn count(text: &str, words: &[&str]) -> usize {
    words.iter().map(|w| text.matches(w).count()).sum()
}

/// The sex a drug of 药品区分性别使用 is for, from its indication text and name: the side whose
/// sex-specific words (organs, menstruation, pregnancy / prostate, testis…) occur more often;
/// `None` when neither occurs or both equally.
///
/// ```
/// use medaudit_core::national::constraints::{drug_sex, FEMALE, MALE};
/// assert_eq!(drug_sex("理气补血，暖宫调经。用于子宫虚寒，月经量少。", "艾附暖宫丸"), Some(FEMALE));
/// assert_eq!(drug_sex("适用于治疗良性前列腺增生症。", "爱普列特片"), Some(MALE));
/// assert_eq!(drug_sex("用于感冒。", "感冒灵"), None);
/// ```
pub fn drug_sex(constraint: &str, item_name: &str) -> Option<&'static str> {
    let text = format!("{constraint} {item_name}");
    let (f, m) = (count(&text, FEMALE_WORDS), count(&text, MALE_WORDS));
    match f.cmp(&m) {
        std::cmp::Ordering::Greater => Some(FEMALE),
        std::cmp::Ordering::Less => Some(MALE),
        std::cmp::Ordering::Equal => None,
    }
}

/// The sex of a 医疗服务项目区分性别使用 point: its text starts with `女性` or `男性`
/// (`女性泌尿生殖系统相关手术`, `男性泌尿生殖系统相关检查` …).
pub fn service_sex(constraint: &str) -> Option<&'static str> {
    let t = constraint.trim();
    if t.starts_with("女性") {
        Some(FEMALE)
    } else if t.starts_with("男性") {
        Some(MALE)
    } else {
        None
    }
}

/// An age band for the `age` template (completed years, inclusive; days for newborns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgeBand {
    /// Youngest allowed age in years.
    pub min_age: Option<u32>,
    /// Oldest allowed age in years.
    pub max_age: Option<u32>,
    /// Oldest allowed age in days.
    pub max_age_days: Option<u32>,
}

/// 儿童: under 18, so at most 17 completed years.
pub const CHILD_MAX_AGE: u32 = 17;

fn num_at(s: &str) -> Option<(u32, usize)> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok().map(|n| (n, digits.len()))
}

/// Every `A-B岁`, `A至B岁`, `A岁至B岁`, `A岁及以上`, `A岁及A岁以上`, `N岁以下` / `N周岁以下` in the
/// text, as (min, max) in completed years.
fn age_ranges(text: &str) -> Vec<(Option<u32>, Option<u32>)> {
    let t = text.replace("周岁", "岁").replace(['—', '－', '~', '～'], "-");
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let prev_digit = i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_digit);
        let Some(rest) = t.get(i..) else { break };
        let Some((a, la)) = num_at(rest).filter(|_| !prev_digit) else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let after = rest.get(la..).unwrap_or("");
        // A-B岁 / A至B岁 / A岁至B岁 [以下]
        let sep = ["岁至", "岁-", "-", "至"].iter().find(|s| after.starts_with(**s)).copied();
        if let Some(sep) = sep {
            let tail = after.get(sep.len()..).unwrap_or("");
            if let Some((z, lz)) = num_at(tail) {
                let tail2 = tail.get(lz..).unwrap_or("");
                if let Some(t3) = tail2.strip_prefix('岁') {
                    let max = if t3.starts_with("以下") { z.checked_sub(1) } else { Some(z) };
                    out.push((Some(a), max));
                    i += la + sep.len() + lz + '岁'.len_utf8();
                    continue;
                }
            }
        }
        if let Some(t2) = after.strip_prefix('岁') {
            if t2.starts_with("以下") {
                out.push((None, a.checked_sub(1)));
            } else if t2.starts_with("及以上") || t2.starts_with("以上") || t2.starts_with(&format!("及{a}岁以上"))
            {
                out.push((Some(a), None));
            }
        }
        i += la;
    }
    out
}

/// The band of a drug for children (药品儿童专用, 药品限儿童使用): the ages the text states
/// (the widest band over all its numbered items), capped at 儿童 (under 18).
///
/// ```
/// use medaudit_core::national::constraints::child_drug_band;
/// assert_eq!(child_drug_band("限5至12岁以下单纯性甲型和乙型流感儿童患者。").max_age, Some(11));
/// assert_eq!(child_drug_band("限3-12岁特发性或先天性肺动脉高压患者。").min_age, Some(3));
/// assert_eq!(child_drug_band("限儿童。").max_age, Some(17));
/// ```
pub fn child_drug_band(constraint: &str) -> AgeBand {
    let ranges = age_ranges(constraint);
    if ranges.is_empty() {
        return AgeBand { max_age: Some(CHILD_MAX_AGE), ..Default::default() };
    }
    // Numbered alternatives (限：1.…；2.…) widen the band: the smallest minimum, the largest maximum.
    let min = ranges.iter().map(|r| r.0).try_fold(u32::MAX, |m, a| a.map(|a| m.min(a)));
    let max = ranges.iter().map(|r| r.1.unwrap_or(CHILD_MAX_AGE)).max().unwrap_or(CHILD_MAX_AGE);
    AgeBand {
        min_age: min.filter(|m| *m > 0 && *m != u32::MAX),
        max_age: Some(max.min(CHILD_MAX_AGE)),
        max_age_days: None,
    }
}

/// The band of a service item for children (医疗服务项目儿童专用): 新生儿 (28 days), 婴儿 (under 1),
/// 婴幼儿 (under 3), 小儿 / 儿童 (under 18).
pub fn child_service_band(constraint: &str) -> Option<AgeBand> {
    let t = constraint.trim();
    if t.contains("新生儿") {
        Some(AgeBand { max_age_days: Some(28), ..Default::default() })
    } else if t.contains("婴幼儿") {
        Some(AgeBand { max_age: Some(2), ..Default::default() })
    } else if t.contains("婴儿") {
        Some(AgeBand { max_age: Some(0), ..Default::default() })
    } else if t.contains("小儿") || t.contains("儿童") {
        Some(AgeBand { max_age: Some(CHILD_MAX_AGE), ..Default::default() })
    } else {
        None
    }
}

/// 限法定就业年龄段: 16 to 59 completed years (the earliest statutory retirement age is 60).
pub fn working_age_band(constraint: &str) -> Option<AgeBand> {
    constraint.contains("法定就业年龄").then_some(AgeBand { min_age: Some(16), max_age: Some(59), max_age_days: None })
}

/// The lowest facility tier a text allows: `二级及以上` → 2, `三级` (alone) → 3. When a text
/// allows several (三级综合医院 or 二级及以上专科医院), the lowest is taken.
pub fn min_level(constraint: &str) -> Option<u8> {
    if constraint.contains("二级及以上") || constraint.contains("二级以上") {
        Some(2)
    } else if constraint.contains("三级") {
        Some(3)
    } else if constraint.contains("一级及以上") {
        Some(1)
    } else {
        None
    }
}

/// Whether a 就医方式 text means "inpatients only": `住院患者方予支付`, `住院方可支付`,
/// `住院患者` (the nutrition-risk texts say 住院患者方予支付). `限急诊或住院` is not: 急诊 is
/// not a scene, so it returns `None`.
pub fn inpatient_only(constraint: &str) -> Option<bool> {
    if constraint.contains("急诊") {
        return None;
    }
    (constraint.contains("住院患者") || constraint.contains("住院方可支付") || constraint.contains("住院方予支付"))
        .then_some(true)
}

/// The limit of a 限定频次 point from its unit text: `日`/`天` → 1 per calendar day; `小时` →
/// 24 (hours billed) per calendar day. Returns (max_qty, window).
pub fn frequency(constraint: &str) -> Option<(f64, &'static str)> {
    match constraint.trim().trim_end_matches('。') {
        "日" | "天" | "每日" | "每天" => Some((1.0, "day")),
        "小时" | "每小时" => Some((24.0, "day")),
        "次" | "每次" => Some((1.0, "encounter")),
        _ => None,
    }
}

fn cn_number(s: &str) -> Option<(u32, usize)> {
    if let Some(n) = num_at(s) {
        return Some(n);
    }
    let c = s.chars().next()?;
    let v = match c {
        '一' => 1,
        '两' | '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        '十' => 10,
        _ => return None,
    };
    Some((v, c.len_utf8()))
}

/// Every `<N><unit>` in the text (arabic or Chinese numerals; for a range `A—B<unit>` the upper
/// bound), for the given unit.
fn amounts(text: &str, unit: &str) -> Vec<u32> {
    let t = text.replace(['—', '－', '~', '～'], "-");
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(k) = t.get(pos..).and_then(|r| r.find(unit)) {
        let end = pos + k;
        // Walk back over the number (digits, Chinese numerals or a range) before the unit.
        let before = t.get(..end).unwrap_or("");
        let mut start = end;
        for (i, c) in before.char_indices().rev() {
            if c.is_ascii_digit() || "一两二三四五六七八九十-".contains(c) {
                start = i;
            } else {
                break;
            }
        }
        let num = t.get(start..end).unwrap_or("");
        let last = num.rsplit('-').next().unwrap_or("");
        if let Some((n, l)) = cn_number(last) {
            if l == last.len() {
                out.push(n);
            }
        }
        pos = end + unit.len();
    }
    out
}

/// The window of a duplicate-charge pair from its 内涵 text: `day` (同时收费 on one calendar day)
/// unless the included procedure itself takes longer: `需时两天` / `连续3天` → `<24·N>h`, a
/// procedure of 12 hours or more (`24小时`, `12—16小时`) → `24h`. Frequencies (`每小时`) are not
/// durations.
///
/// ```
/// use medaudit_core::national::constraints::pair_window;
/// assert_eq!(pair_window("含监护、床位、诊查、护理"), "day");
/// assert_eq!(pair_window("含需时两天，每日两次测体重"), "48h");
/// assert_eq!(pair_window("含24小时内3次皮质醇测定"), "24h");
/// ```
pub fn pair_window(constraint: &str) -> String {
    let t = constraint.replace("每小时", "").replace("每日", "").replace("一日", "");
    let days = amounts(&t, "天").into_iter().max().unwrap_or(0);
    if days >= 2 {
        return format!("{}h", 24 * days);
    }
    let hours = amounts(&t, "小时").into_iter().max().unwrap_or(0);
    if hours >= 12 {
        return "24h".to_string();
    }
    "day".to_string()
}

/// A payment course (支付疗程) for the history template `course`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Course {
    /// Most days paid.
    pub max_days: u32,
    /// `distinct_days` (days of use counted) or `span` (from the first use).
    pub measure: &'static str,
}

/// The course of a 限支付疗程 point: the largest `支付不超过N天` / `最多支付N天` / `总时间不超过N天`
/// / `N个月` (×30) / `一年` (365) in the text; distinct days unless the detection logic counts a
/// span (`连续时间跨度`).
///
/// ```
/// use medaudit_core::national::constraints::course;
/// let c = course("限急性缺血性脑血管疾病，支付不超过14天。", Some("使用药品的日期总计超过限制天数")).unwrap();
/// assert_eq!((c.max_days, c.measure), (14, "distinct_days"));
/// let c = course("支付不超过12个月", Some("第一次使用药品的日期开始计算的连续时间跨度超过限制天数")).unwrap();
/// assert_eq!((c.max_days, c.measure), (360, "span"));
/// ```
pub fn course(constraint: &str, detect_logic: Option<&str>) -> Option<Course> {
    let t = constraint.replace("每周最多支付一次", "");
    let paid = |s: &str| s.contains("支付") || s.contains("总时间");
    if !paid(&t) {
        return None;
    }
    let mut best: Option<u32> = None;
    for clause in t.split(['，', '。', '；', ',', ';']) {
        if !(clause.contains("不超过") || clause.contains("最多")) {
            continue;
        }
        let mut v: Vec<u32> = amounts(clause, "天");
        v.extend(amounts(clause, "个月").into_iter().map(|m| m * 30));
        v.extend(amounts(clause, "年").into_iter().map(|y| y * 365));
        if let Some(m) = v.into_iter().max() {
            best = Some(best.map_or(m, |b| b.max(m)));
        }
    }
    let measure = if detect_logic.is_some_and(|d| d.contains("跨度")) { "span" } else { "distinct_days" };
    best.filter(|d| *d > 0).map(|max_days| Course { max_days, measure })
}

/// A rolling cycle (周期超频次) for the history template `cycle_frequency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// Most times paid within the window.
    pub max_count: u32,
    /// The window, in days.
    pub window_days: u32,
}

/// The cycle of a 周期超频次 point: `间隔时间不短于N天` → 1 per N days; `每周最多支付一次` → 1 per
/// 7 days; `反映近A-B周/个月` (a test that reflects the last weeks or months) → 1 per A weeks or
/// A×30 days (the lower bound: repeating it sooner is what the point forbids).
///
/// ```
/// use medaudit_core::national::constraints::cycle;
/// assert_eq!(cycle("评定间隔时间不短于14天。").map(|c| (c.max_count, c.window_days)), Some((1, 14)));
/// assert_eq!(cycle("诊疗规范：糖化血红蛋白水平反映近2-3个月的平均血糖水平。").map(|c| c.window_days), Some(60));
/// ```
pub fn cycle(constraint: &str) -> Option<Cycle> {
    let t = constraint.replace(['—', '－', '~', '～'], "-");
    if let Some(i) = t.find("不短于") {
        let rest = t.get(i + "不短于".len()..).unwrap_or("");
        if let Some((n, l)) = cn_number(rest) {
            if rest.get(l..).is_some_and(|r| r.starts_with('天')) {
                return Some(Cycle { max_count: 1, window_days: n });
            }
        }
    }
    if t.contains("每周最多支付一次") || t.contains("每周限一次") {
        return Some(Cycle { max_count: 1, window_days: 7 });
    }
    if let Some(i) = t.find("反映近") {
        let rest = t.get(i + "反映近".len()..).unwrap_or("");
        let (a, l) = cn_number(rest)?;
        let mut tail = rest.get(l..).unwrap_or("");
        if let Some(r) = tail.strip_prefix('-') {
            let (_, l2) = cn_number(r)?;
            tail = r.get(l2..).unwrap_or("");
        }
        let days = if tail.starts_with("个月") {
            a * 30
        } else if tail.starts_with('周') {
            a * 7
        } else if tail.starts_with('天') {
            a
        } else {
            return None;
        };
        return Some(Cycle { max_count: 1, window_days: days });
    }
    None
}

/// Whether a 中药饮片 point is "never payable" (单复方均不予支付) rather than "not when used alone"
/// (单方使用不予支付), keyed on the text: the batch-11 attachment names are swapped.
pub fn herb_never_payable(constraint: &str) -> Option<bool> {
    if constraint.contains("单独使用") {
        Some(false)
    } else if constraint.contains("不得纳入基金支付范围") || constraint.contains("均不予支付") {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(child_drug_band("限6-17岁儿童和青少年的注意缺陷多动障碍(ADHD)。").min_age, Some(6));
        assert_eq!(child_drug_band("限6-17岁儿童和青少年的注意缺陷多动障碍(ADHD)。").max_age, Some(17));
        let b = child_drug_band("限：1.1岁至14岁儿童哮喘的预防和长期治疗；2.2岁至14岁儿童季节性过敏性鼻炎。");
        assert_eq!((b.min_age, b.max_age), (Some(1), Some(14)));
        let b = child_drug_band("限3岁及3岁以上伴有症状、无法手术的丛状神经纤维瘤(PN)儿童患者。");
        assert_eq!((b.min_age, b.max_age), (Some(3), Some(17)));
        assert_eq!(child_drug_band("适用于接受肠外营养的11周岁以下患者维生素缺乏的预防。").max_age, Some(10));
        assert_eq!(child_service_band("新生儿专用项目").and_then(|b| b.max_age_days), Some(28));
        assert_eq!(child_service_band("婴幼儿专用项目").and_then(|b| b.max_age), Some(2));
        assert_eq!(child_service_band("成人项目"), None);
        assert_eq!(working_age_band("限法定就业年龄段患者").and_then(|b| b.min_age), Some(16));
    }

    #[test]
    fn sexes() {
        // 促黄体生成素 and 男子更年期 mention a female word once; the male words win.
        assert_eq!(
            drug_sex("与促黄体生成素释放激素类似物或外科睾丸切除术联合应用于晚期前列腺癌", "比卡鲁胺片"),
            Some(MALE)
        );
        assert_eq!(drug_sex("用于男子更年期障碍或缺乏睾丸素所致的各种疾病。", "睾丸片"), Some(MALE));
        assert_eq!(service_sex("男性泌尿生殖系统相关检查"), Some(MALE));
        assert_eq!(service_sex("说明：性别不清"), None);
    }

    #[test]
    fn levels_scenes_frequencies() {
        assert_eq!(min_level("限二级及以上医疗机构。"), Some(2));
        assert_eq!(min_level("需三级综合医院眼科或二级及以上眼科专科医院医师处方"), Some(2));
        assert_eq!(min_level("限癌症患者"), None);
        assert_eq!(
            inpatient_only(
                "需经营养风险筛查，明确具有营养风险，且不能经饮食或使用“肠内营养剂”补充足够营养的住院患者方予支付。"
            ),
            Some(true)
        );
        assert_eq!(inpatient_only("限急诊或住院患者。"), None);
        assert_eq!(frequency("小时"), Some((24.0, "day")));
        assert_eq!(frequency("天"), Some((1.0, "day")));
        assert_eq!(frequency("周"), None);
        assert_eq!(
            pair_window("含血、尿渗透压、尿比重测定至少各3个标本、每小时测尿量、需时6—8小时，必要时延至12—16小时"),
            "24h"
        );
        assert_eq!(pair_window("含查血肾上腺素、血压监测每小时一次、连续6小时"), "day");
        assert_eq!(
            pair_window("含快速法、一日三次皮质醇测定1天；包括传统法或肌注法，每日2次皮质醇测定、连续3天"),
            "72h"
        );
    }

    #[test]
    fn courses_and_cycles() {
        let c = course("限二级及以上医疗机构脑梗死恢复期患者，住院方可支付，单次最多支付14天。", None);
        assert_eq!(c.map(|c| c.max_days), Some(14));
        assert_eq!(course("支付不超过一年，每周最多支付一次。", None).map(|c| c.max_days), Some(365));
        assert_eq!(course("总时间不超过90天，评定间隔时间不短于14天。", None).map(|c| c.max_days), Some(90));
        assert_eq!(
            course("限新发的急性缺血性脑卒中患者在发作72小时内开始使用，支付不超过20天。", None).map(|c| c.max_days),
            Some(20)
        );
        assert_eq!(course("限急性缺血性脑血管疾病。", None), None);
        assert_eq!(cycle("每周最多支付一次。（人社部发〔2016〕23号）").map(|c| c.window_days), Some(7));
        assert_eq!(cycle("两次评定间隔时间不短于14天。").map(|c| c.window_days), Some(14));
        assert_eq!(
            cycle("诊疗规范：血清果糖胺（糖化清蛋白）水平反映近2-3周的平均血糖水平。").map(|c| c.window_days),
            Some(14)
        );
        assert_eq!(cycle("无周期"), None);
        assert_eq!(herb_never_payable("不得纳入基金支付范围的中药饮片"), Some(true));
        assert_eq!(
            herb_never_payable("单独使用时统筹基金不予支付，且全部由这些饮片组成的处方统筹基金也不予支付。"),
            Some(false)
        );
    }
}
