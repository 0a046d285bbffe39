//! The DRG grouper against real schemes: CHS-DRG 1.1's 30 reference cases, the Beijing 2022
//! variant's length-of-stay and age splits, every status reason, load errors, and one case ==
//! the same case in a million-case Arrow batch.

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use medaudit_core::drg::{Case, DrgScheme, GroupOptions, Reason, Status, TextCase};
use medaudit_core::{canonical_schema, Claims, ClaimsTable};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");

fn files(dir: &str) -> (String, BTreeMap<String, String>) {
    let json = std::fs::read_to_string(format!("{DATA}/{dir}/scheme.json")).expect("scheme.json");
    let mut files = BTreeMap::new();
    for f in DrgScheme::declared_files(&json).expect("declared files") {
        files.insert(f.clone(), std::fs::read_to_string(format!("{DATA}/{dir}/{f}")).expect("table file"));
    }
    (json, files)
}

fn chs() -> &'static DrgScheme {
    static S: OnceLock<DrgScheme> = OnceLock::new();
    S.get_or_init(|| {
        let (j, f) = files("chs-drg-1.1");
        DrgScheme::load(&j, &f).expect("chs-drg-1.1 loads")
    })
}

fn beijing() -> &'static DrgScheme {
    static S: OnceLock<DrgScheme> = OnceLock::new();
    S.get_or_init(|| {
        let (j, f) = files("chs-drg-beijing-2022");
        DrgScheme::load(&j, &f).expect("beijing-2022 loads")
    })
}

/// A row of `input_test_cases.csv`: `Index,gender,age,ageDay,weight,dept,inHospitalTime,leavingType,ICD10_DRGS,ICD9_DRGS,drg`.
fn opendrg<'c>(f: &[&'c str]) -> Result<Case<'c>, Reason<'static>> {
    TextCase {
        sex: f[1],
        age_years: f[2],
        age_days: f[3],
        birth_weight_g: f[4],
        dept: f[5],
        los_days: f[6],
        discharge_status: f[7],
        diagnoses: f[8],
        procedures: f[9],
    }
    .parse()
}

#[test]
fn the_30_reference_cases_give_their_expected_drg() {
    let text = std::fs::read_to_string(format!("{DATA}/opendrg-chs-drg-1.1/input_test_cases.csv")).unwrap();
    let mut checked = 0;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Index,gender,age,ageDay,weight,dept,inHospitalTime,leavingType,ICD10_DRGS,ICD9_DRGS,drg")
    );
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 11, "{line}");
        let case = opendrg(&f).unwrap();
        for opts in [GroupOptions::default(), GroupOptions::reference()] {
            let g = chs().group(&case, &opts);
            if !f[10].is_empty() {
                assert_eq!(g.drg, f[10], "case {}: {g:?}", f[0]);
                assert_eq!(g.status, Status::Grouped);
                assert_eq!(g.status_code, "SUCCESS");
                assert_eq!(&g.drg[..3], g.adrg);
                assert_eq!(g.mdc, format!("MDC{}", &g.drg[..1]));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 48, "24 cases carry an expected DRG, each checked under two option sets");
}

fn case<'c>(sex: i64, age: i64, dx: &[&'c str], px: &[&'c str]) -> Case<'c> {
    Case {
        sex: Some(sex),
        age_years: Some(age),
        age_days: Some(age * 365 + 10),
        los_days: Some(5),
        diagnoses: dx.to_vec(),
        procedures: px.to_vec(),
        ..Default::default()
    }
}

#[test]
fn trace_shows_gates_and_cc_mcc_counted_and_excluded() {
    // Reference case 22084557: intracerebral haemorrhage, craniotomy; MCC J96.900x001-like codes.
    let c = case(
        2,
        67,
        &["I61.900x002", "I10.x00x002", "G93.501", "J18.900", "J94.804"],
        &["01.3900x009", "01.2413", "31.1x00x005"],
    );
    let (g, t) = chs().group_traced(&c, &GroupOptions::default());
    assert_eq!(g.drg, "BB21");
    // MDCA's gate holds (a valid OR procedure as principal) but none of its rules match, so the
    // walk falls through to MDCB: the trace shows both.
    assert_eq!(t.mdcs.first().map(|m| (m.mdc.as_str(), m.gate, m.rule.clone())), Some(("MDCA", true, None)));
    let last = t.mdcs.last().unwrap();
    assert_eq!((last.mdc.as_str(), last.gate, last.rule.as_deref()), ("MDCB", true, Some("BB2")));
    assert!(t.counted.iter().any(|m| m.kind == "MCC"), "{t:?}");
    assert_eq!(t.split.as_deref(), Some("#0 BB21"));
    assert!(t.summary().starts_with("MDCA:yes→none"), "{}", t.summary());

    // A secondary MCC in the principal's own exclusion table is cancelled: find one from the data.
    let mcc = std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/mcc.csv")).unwrap();
    let cce = std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/cce.csv")).unwrap();
    let mccs: BTreeMap<&str, &str> = mcc.lines().skip(1).filter_map(|l| l.split_once(',')).collect();
    let principal = "I61.900x002";
    let table = cce.lines().skip(1).filter_map(|l| l.split_once(',')).find(|(p, _)| *p == principal).unwrap().1;
    let same = mccs.iter().find(|(c, t)| **t == table && **c != principal).map(|(c, _)| *c).unwrap();
    let c2 = case(2, 67, &[principal, same], &["01.3900x009"]);
    let (g2, t2) = chs().group_traced(&c2, &GroupOptions::default());
    assert_eq!(t2.excluded.len(), 1, "{t2:?}");
    assert_eq!((t2.excluded[0].code.as_str(), t2.excluded[0].kind), (same, "MCC"));
    assert!(t2.counted.is_empty());
    assert_eq!(g2.adrg, "BB2");
    assert_ne!(g2.drg, "BB21", "an excluded MCC does not split into the MCC group");
}

#[test]
fn every_status_reason() {
    let s = chs();
    let o = GroupOptions::default();
    let ok = case(1, 65, &["C61.x00", "Z98.800x210"], &["60.5x02"]);
    assert_eq!(s.group(&ok, &o).drg, "MA19");
    let reason = |c: &Case, o: &GroupOptions| {
        let g = s.group(c, o);
        assert_eq!(g.status, Status::Invalid, "{g:?}");
        assert_eq!((g.mdc, g.adrg, g.drg), ("0000", "00", "0000"));
        (g.status_code, g.reason.unwrap().code())
    };
    let chk = |id: &str| ("CHECK_FAILED", id.to_string());

    assert_eq!(reason(&Case { sex: None, ..ok.clone() }, &o), chk("sex_missing"));
    assert_eq!(reason(&Case { sex: Some(3), ..ok.clone() }, &o), chk("sex_invalid"));
    assert_eq!(reason(&Case { age_years: None, ..ok.clone() }, &o), chk("age_missing"));
    assert_eq!(reason(&Case { age_years: Some(0), age_days: None, ..ok.clone() }, &o), chk("infant_age_days_missing"));
    assert_eq!(
        reason(&Case { age_years: Some(0), age_days: Some(3), birth_weight_g: None, ..ok.clone() }, &o),
        chk("newborn_weight_missing")
    );
    assert_eq!(reason(&Case { diagnoses: vec![], ..ok.clone() }, &o), chk("no_diagnosis"));
    // Unknown codes, with their position in the message.
    let bad_dx = Case { diagnoses: vec!["C61.x00", "NOT.A.CODE"], ..ok.clone() };
    assert_eq!(reason(&bad_dx, &o), chk("unknown_dx"));
    let g = s.group(&bad_dx, &o);
    assert_eq!(g.reason, Some(Reason::UnknownDx { index: 1 }));
    assert_eq!(
        g.reason.unwrap().message(&bad_dx.diagnoses, &bad_dx.procedures),
        "diagnosis \"NOT.A.CODE\" (position 1) is not a code of the scheme"
    );
    assert_eq!(reason(&Case { procedures: vec!["99.9999x999"], ..ok.clone() }, &o), chk("unknown_proc"));
    // The reference semantics do not check codes: the unknown secondary code matches nothing.
    assert_eq!(s.group(&bad_dx, &GroupOptions::reference()).drg, "MA19");
    // Unmappable codes with mapping on: the scheme's own statuses.
    let map_on = GroupOptions { code_mapping: Some(true), ..o };
    assert_eq!(reason(&bad_dx, &map_on), ("ZD_NOT_MAPPING", "unmapped_dx".to_string()));
    assert_eq!(
        reason(&Case { procedures: vec!["99.9999x999"], ..ok.clone() }, &map_on),
        ("SS_NOT_MAPPING", "unmapped_proc".to_string())
    );
    assert_eq!(s.group(&ok, &map_on).drg, "MA19", "mapped codes group as before");
    // Principal diagnosis admitted only for the other sex (MDCM is male-only).
    let female = Case { sex: Some(2), ..ok.clone() };
    assert_eq!(reason(&female, &o), chk("sex_conflict"));
    // Without the check the case is valid but no MDC takes it.
    let g = s.group(&female, &GroupOptions::reference());
    assert_eq!((g.status, g.status_code, g.drg), (Status::Ungroupable, "FAIL", "0000"));
}

#[test]
fn ungroupable_when_no_mdc_takes_the_case() {
    // A code of the scheme that no MDC gate's principal-diagnosis list holds.
    let names = std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/dx_names.csv")).unwrap();
    let s = chs();
    let orphan = names
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .find(|code| {
            let g = s.group(&case(1, 40, &[code], &[]), &GroupOptions::default());
            g.status == Status::Ungroupable
        })
        .expect("some code groups nowhere");
    let g = s.group(&case(1, 40, &[orphan], &[]), &GroupOptions::default());
    assert_eq!((g.status_code, g.mdc, g.adrg, g.drg), ("FAIL", "0000", "00", "0000"));
    assert!(g.reason.is_none());
}

#[test]
fn beijing_2022_groups_from_its_data_with_los_and_age_splits() {
    let s = beijing();
    assert_eq!(s.id(), "beijing-2022");
    let o = GroupOptions::default();
    // RC1 (external-beam radiotherapy for malignancy): splits by length of stay only, with the
    // bare ADRG when no split holds (length of stay 0). Principal procedure from RC1.proc.
    let rc = |los: Option<i64>| Case { los_days: los, ..case(1, 60, &["Z51.003", "C34.900x001"], &["92.2400x005"]) };
    for (los, want) in [
        (Some(20), "RC12"),
        (Some(13), "RC12"),
        (Some(12), "RC14"),
        (Some(6), "RC14"),
        (Some(5), "RC16"),
        (Some(2), "RC16"),
        (Some(1), "RC18"),
        (Some(0), "RC1"),
        (None, "RC1"),
    ] {
        let g = s.group(&rc(los), &o);
        assert_eq!((g.status, g.adrg, g.drg), (Status::Grouped, "RC1", want), "los {los:?}");
    }
    // RC2 (brachytherapy) and RE1 (chemotherapy): their own bands, first codes of their lists.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/chs-drg-beijing-2022/scheme.json")).unwrap())
            .unwrap();
    let first = |list: &str| json["code_lists"][list]["codes"][0].as_str().unwrap().to_string();
    let (rc2, re1_dx, re1_px) = (first("RC2.proc"), first("RE1.dx"), first("RE1.proc"));
    for (los, want) in
        [(14, "RC22"), (7, "RC24"), (13, "RC24"), (3, "RC26"), (6, "RC26"), (1, "RC28"), (2, "RC28"), (0, "RC2")]
    {
        let c = Case { los_days: Some(los), ..case(1, 60, &["Z51.003", "C34.900x001"], &[&rc2]) };
        assert_eq!(s.group(&c, &o).drg, want, "RC2 los {los}");
    }
    for (los, want) in [(30, "RE12"), (14, "RE12"), (13, "RE14"), (7, "RE14"), (6, "RE16"), (1, "RE16"), (0, "RE1")] {
        let c = Case { los_days: Some(los), ..case(2, 50, &[&re1_dx], &[&re1_px]) };
        let g = s.group(&c, &o);
        assert_eq!((g.adrg, g.drg), ("RE1", want), "RE1 los {los}: {g:?}");
    }
    // CHS-DRG 1.1 groups the same case without regard to the stay.
    assert_eq!(chs().group(&rc(Some(20)), &o).drg, "RC19");
    assert_eq!(chs().group(&rc(Some(0)), &o).drg, "RC19");
}

#[test]
fn beijing_2022_age_split_and_secondary_dx_rule() {
    let s = beijing();
    let o = GroupOptions::default();
    // Find a principal diagnosis of IT2 (chronic inflammatory musculoskeletal disorders) and check
    // that the age ≤ 6 splits follow an `always` split and so cannot be reached (SOURCE.md).
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/chs-drg-beijing-2022/scheme.json")).unwrap())
            .unwrap();
    let first = |list: &str| json["code_lists"][list]["codes"][0].as_str().unwrap().to_string();
    let it2 = first("IT2.dx");
    for age in [3, 40] {
        let g = s.group(&case(1, age, &[&it2], &[]), &o);
        assert_eq!((g.adrg, g.drg), ("IT2", "IT25"), "age {age}");
    }
    // AH1_1 (Beijing only): a secondary diagnosis from AH1_1.dx1 (tracheostomy status) with the
    // ventilation procedure anywhere; MDCA needs a valid OR principal procedure (31.3x00x001, a larynx/trachea incision).
    let px = first("AH1_1.proc");
    let dx1 = first("AH1_1.dx1");
    let g = s.group(&case(1, 50, &["J18.900", &dx1], &["31.3x00x001", &px]), &o);
    assert_eq!((g.mdc, g.adrg, g.rule, g.drg), ("MDCA", "AH1", "AH1_1", "AH15"), "{g:?}");
    // Without the secondary diagnosis the Beijing rule does not apply; CHS-DRG 1.1 has no AH1_1.
    let g = s.group(&case(1, 50, &["J18.900"], &["31.3x00x001", &px]), &o);
    assert_ne!(g.rule, "AH1_1");
}

#[test]
fn load_errors_name_file_and_place() {
    let (json, files) = files("chs-drg-1.1");
    let err = |j: &str, f: &BTreeMap<String, String>| DrgScheme::load(j, f).err().expect("an error").to_string();
    // A missing file.
    let mut f2 = files.clone();
    f2.remove("mcc.csv");
    assert!(err(&json, &f2).starts_with(
        "DRG/DIP scheme: scheme.json at $.tables.mcc.file: table \"mcc\" needs file \"mcc.csv\", which was not given"
    ));
    // A malformed CSV row names the file and line.
    let mut f3 = files.clone();
    f3.insert("cc.csv".into(), "code,exclusion_table\nA01.000,1\nA01.001\n".into());
    assert_eq!(err(&json, &f3), "DRG/DIP scheme: cc.csv line 3: 1 fields, the header has 2");
    let mut f4 = files.clone();
    f4.insert("mcc.csv".into(), "code,table\nA01,1\n".into());
    assert!(err(&json, &f4).starts_with("DRG/DIP scheme: mcc.csv line 1: header is"));
    let mut f5 = files.clone();
    f5.insert("cce.csv".into(), "principal_code,exclusion_table\nA01,1\nA01,2\n".into());
    assert_eq!(err(&json, &f5), "DRG/DIP scheme: cce.csv line 3: duplicate key \"A01\" (first on line 2)");
    // JSON faults name their path.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["mdcs"][6]["adrg_rules"][0]["gate"] = serde_json::json!({"main_dx_in": "NO.SUCH.LIST"});
    assert_eq!(
        err(&v.to_string(), &files),
        "DRG/DIP scheme: scheme.json at $.mdcs[6].adrg_rules[0].gate.main_dx_in: unknown code list \"NO.SUCH.LIST\""
    );
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["mdcs"][0]["gate"] = serde_json::json!({"icu_hours": {"ge": 96}});
    assert!(err(&v.to_string(), &files)
        .starts_with("DRG/DIP scheme: scheme.json at $.mdcs[0].gate.icu_hours: unknown primitive \"icu_hours\""));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["mdcs"][0]["gate"] = serde_json::json!({"main_proc_in": "MDCB.main_dx"});
    assert!(err(&v.to_string(), &files).contains("code list \"MDCB.main_dx\" has kind dx, this primitive needs proc"));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["uses_primitives"].as_array_mut().unwrap().push("icu_hours".into());
    assert!(err(&v.to_string(), &files).contains("$.uses_primitives[19]: primitive \"icu_hours\" is not implemented"));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["format"] = "drg-scheme/2".into();
    assert!(err(&v.to_string(), &files).contains("$.format: unsupported format \"drg-scheme/2\""));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["mdcs"][1]["gate"] = serde_json::json!({"all": [{"sex": 1}, {"always": true, "never": true}]});
    assert!(err(&v.to_string(), &files).contains("$.mdcs[1].gate.all[1]: a condition has exactly one key, found 2"));
    assert!(err("{not json", &files).starts_with("DRG/DIP scheme: scheme.json line 1: invalid JSON"));
}

// ---------------------------------------------------------------------------------------------
// One case == the same case in a batch.

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Pools {
    dx: Vec<String>,
    px: Vec<String>,
}

fn pools() -> Pools {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/scheme.json")).unwrap()).unwrap();
    let (mut dx, mut px) = (Vec::new(), Vec::new());
    for (_, l) in json["code_lists"].as_object().unwrap() {
        let codes = l["codes"].as_array().unwrap();
        let target = if l["kind"] == "dx" { &mut dx } else { &mut px };
        // A few codes of every list, so that every gate is reachable.
        for c in codes.iter().step_by(1 + codes.len() / 8) {
            target.push(c.as_str().unwrap().to_string());
        }
    }
    let mcc = std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/mcc.csv")).unwrap();
    dx.extend(mcc.lines().skip(1).step_by(50).map(|l| l.split(',').next().unwrap().to_string()));
    dx.push("NOT.A.CODE".into());
    px.push("99.9999x999".into());
    Pools { dx, px }
}

struct Gen {
    ids: Vec<String>,
    gend: Vec<Option<String>>,
    age: Vec<Option<f64>>,
    los: Vec<Option<f64>>,
    wt: Vec<Option<f64>>,
    d_id: Vec<String>,
    d_code: Vec<String>,
    d_main: Vec<String>,
    p_id: Vec<String>,
    p_code: Vec<String>,
}

fn generate(n: usize, seed: u64, p: &Pools) -> Gen {
    let mut r = Rng(seed | 1);
    let mut g = Gen {
        ids: vec![],
        gend: vec![],
        age: vec![],
        los: vec![],
        wt: vec![],
        d_id: vec![],
        d_code: vec![],
        d_main: vec![],
        p_id: vec![],
        p_code: vec![],
    };
    for i in 0..n {
        let id = format!("E{i:08}");
        g.gend.push(match r.below(50) {
            0 => None,
            1 => Some("9".into()),
            2 => Some("男".into()),
            x => Some(if x % 2 == 0 { "1".into() } else { "2".into() }),
        });
        g.age.push(match r.below(40) {
            0 => None,
            1..=3 => Some(0.0),
            x => Some((x * 2) as f64),
        });
        g.los.push(Some(r.below(30) as f64));
        g.wt.push(if r.below(2) == 0 { Some((500 + r.below(4000)) as f64) } else { None });
        let ndx = r.below(8);
        // The principal sometimes comes later, flagged.
        let main_at = if ndx > 1 && r.below(4) == 0 { r.below(ndx) } else { 0 };
        for k in 0..ndx {
            g.d_id.push(id.clone());
            g.d_code.push(p.dx[r.below(p.dx.len())].clone());
            g.d_main.push(if k == main_at { "1".into() } else { "0".into() });
        }
        for _ in 0..r.below(4) {
            g.p_id.push(id.clone());
            g.p_code.push(p.px[r.below(p.px.len())].clone());
        }
        g.ids.push(id);
    }
    g
}

fn batch(table: ClaimsTable, cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = canonical_schema(table);
    let fields: Vec<_> = cols.iter().map(|(n, _)| schema.field_with_name(n).unwrap().clone()).collect();
    RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), cols.into_iter().map(|c| c.1).collect()).unwrap()
}

fn claims(g: &Gen) -> Claims {
    let s = |v: &[String]| Arc::new(StringArray::from_iter_values(v)) as ArrayRef;
    let f = |v: &[Option<f64>]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
    Claims {
        mdtrt: vec![batch(
            ClaimsTable::Mdtrt,
            vec![
                ("mdtrt_id", s(&g.ids)),
                ("gend", Arc::new(StringArray::from(g.gend.clone())) as ArrayRef),
                ("age", f(&g.age)),
                ("act_ipt_days", f(&g.los)),
                ("nwb_bir_wt", f(&g.wt)),
            ],
        )],
        diagnoses: vec![batch(
            ClaimsTable::Diagnoses,
            vec![("mdtrt_id", s(&g.d_id)), ("diag_code", s(&g.d_code)), ("maindiag_flag", s(&g.d_main))],
        )],
        operations: vec![batch(
            ClaimsTable::Operations,
            vec![("mdtrt_id", s(&g.p_id)), ("oprn_oprt_code", s(&g.p_code))],
        )],
        ..Default::default()
    }
}

/// The same case built field by field for [`DrgScheme::group`].
fn single<'g>(
    g: &'g Gen,
    i: usize,
    dx: &BTreeMap<&str, Vec<(usize, &'g str, bool)>>,
    px: &BTreeMap<&str, Vec<&'g str>>,
) -> Result<Case<'g>, &'static str> {
    let id = g.ids[i].as_str();
    let sex = match g.gend[i].as_deref() {
        None => None,
        Some(x) => Some(x.parse::<i64>().map_err(|_| "unparsable_gend")?),
    };
    let mut d: Vec<(usize, &str, bool)> = dx.get(id).cloned().unwrap_or_default();
    if d.iter().filter(|x| x.2).count() > 1 {
        return Err("multiple_principal_dx");
    }
    d.sort_by_key(|x| (!x.2, x.0));
    Ok(Case {
        sex,
        age_years: g.age[i].map(|x| x as i64),
        age_days: None,
        birth_weight_g: g.wt[i].map(|x| x as i64),
        los_days: g.los[i].map(|x| x as i64),
        diagnoses: d.iter().map(|x| x.1).collect(),
        procedures: px.get(id).cloned().unwrap_or_default(),
        ..Default::default()
    })
}

fn same_as_single(n: usize, seed: u64, opts: GroupOptions) {
    let p = pools();
    let g = generate(n, seed, &p);
    let c = claims(&g);
    let out = chs().group_claims(&c, &opts, false).expect("groups");
    assert_eq!(out.results.len(), n);
    let mut dx: BTreeMap<&str, Vec<(usize, &str, bool)>> = BTreeMap::new();
    for (k, id) in g.d_id.iter().enumerate() {
        dx.entry(id.as_str()).or_default().push((k, g.d_code[k].as_str(), g.d_main[k] == "1"));
    }
    let mut px: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, id) in g.p_id.iter().enumerate() {
        px.entry(id.as_str()).or_default().push(g.p_code[k].as_str());
    }
    let mut statuses = BTreeMap::new();
    for (i, r) in out.results.iter().enumerate() {
        assert_eq!(r.mdtrt_id, g.ids[i]);
        match single(&g, i, &dx, &px) {
            Ok(case) => assert_eq!(r.grouping, chs().group(&case, &opts), "case {i}: {case:?}"),
            Err(reason) => assert_eq!(r.grouping.reason.map(|x| x.code()).as_deref(), Some(reason), "case {i}"),
        }
        *statuses.entry((r.grouping.status.name(), r.grouping.reason.map(|x| x.code()))).or_insert(0usize) += 1;
    }
    // The generated data reaches every kind of result.
    for want in ["grouped", "ungroupable", "invalid"] {
        assert!(statuses.keys().any(|k| k.0 == want), "{want}: {statuses:?}");
    }
    assert!(statuses.len() >= 8, "{statuses:?}");
}

#[test]
fn one_case_equals_the_same_case_in_a_million_case_batch() {
    same_as_single(1_000_000, 42, GroupOptions::default());
}

#[test]
fn batch_equals_single_with_mapping_and_reference_options() {
    same_as_single(20_000, 7, GroupOptions { code_mapping: Some(true), ..GroupOptions::default() });
    same_as_single(20_000, 8, GroupOptions::reference());
}

#[test]
fn arrow_results_and_traces() {
    let p = pools();
    let g = generate(2_000, 3, &p);
    let c = claims(&g);
    let out = chs().group_claims(&c, &GroupOptions::default(), true).unwrap();
    let b = out.to_record_batch().unwrap();
    assert_eq!(b.num_rows(), 2_000);
    assert_eq!(b.schema().as_ref(), &medaudit_core::drg::drg_result_schema());
    use arrow_array::cast::AsArray;
    let col = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
    let (status, drg, reason, text, trace) =
        (col("status"), col("drg"), col("reason"), col("reason_text"), col("trace"));
    for i in 0..b.num_rows() {
        let r = &out.results[i];
        assert_eq!(status.value(i), r.grouping.status.name());
        assert_eq!(drg.value(i), r.grouping.drg);
        assert_eq!(reason.is_null(i), r.grouping.status != Status::Invalid);
        assert_eq!(text.is_null(i), r.grouping.status != Status::Invalid);
        assert!(!trace.is_null(i));
    }
    // Splitting the tables into batches (an empty one too) changes nothing.
    let split = |b: &RecordBatch| {
        let n = b.num_rows();
        vec![b.slice(0, n / 3), b.slice(n / 3, 0), b.slice(n / 3, n - n / 3)]
    };
    let parts = Claims {
        mdtrt: split(&c.mdtrt[0]),
        diagnoses: split(&c.diagnoses[0]),
        operations: split(&c.operations[0]),
        ..Default::default()
    };
    let again = chs().group_claims(&parts, &GroupOptions::default(), true).unwrap();
    assert_eq!(again.results, out.results);
    assert_eq!(again.traces, out.traces);
    // Dictionary-encoded and LargeUtf8 code columns give the same results.
    let with_col = |b: &RecordBatch, col: &str, array: ArrayRef| {
        let i = b.schema().index_of(col).unwrap();
        let mut cols = b.columns().to_vec();
        let mut fields: Vec<arrow_schema::Field> = b.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[i] = arrow_schema::Field::new(col, array.data_type().clone(), true);
        cols[i] = array;
        RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), cols).unwrap()
    };
    let strings = |b: &RecordBatch, col: &str| b.column_by_name(col).unwrap().as_string::<i32>().clone();
    let dict = |b: &RecordBatch, col: &str| {
        let d: arrow_array::DictionaryArray<arrow_array::types::Int32Type> = strings(b, col).iter().collect();
        with_col(b, col, Arc::new(d))
    };
    let large = |b: &RecordBatch, col: &str| {
        let v: arrow_array::LargeStringArray = strings(b, col).iter().collect();
        with_col(b, col, Arc::new(v))
    };
    let typed = Claims {
        mdtrt: vec![dict(&c.mdtrt[0], "gend")],
        diagnoses: vec![dict(&c.diagnoses[0], "diag_code")],
        operations: vec![large(&c.operations[0], "oprn_oprt_code")],
        ..Default::default()
    };
    assert_eq!(chs().group_claims(&typed, &GroupOptions::default(), true).unwrap().results, out.results);
    // Traced and untraced grouping agree.
    let plain = chs().group_claims(&c, &GroupOptions::default(), false).unwrap();
    assert!(plain.traces.is_none());
    assert_eq!(plain.results, out.results);
}

#[test]
fn claims_errors_name_table_row_and_column() {
    let s = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    let m = batch(ClaimsTable::Mdtrt, vec![("mdtrt_id", s(&["A", "B"])), ("gend", s(&["1", "2"]))]);
    let d =
        batch(ClaimsTable::Diagnoses, vec![("mdtrt_id", s(&["A", "C"])), ("diag_code", s(&["C61.x00", "C61.x00"]))]);
    let c = Claims { mdtrt: vec![m.clone()], diagnoses: vec![d], ..Default::default() };
    let e = chs().group_claims(&c, &GroupOptions::default(), false).err().unwrap();
    assert_eq!(e.to_string(), "claims table diagnoses: row 1: column \"mdtrt_id\": encounter \"C\" is not in mdtrt");
    let dup = batch(ClaimsTable::Mdtrt, vec![("mdtrt_id", s(&["A", "A"]))]);
    let c = Claims { mdtrt: vec![dup], ..Default::default() };
    let e = chs().group_claims(&c, &GroupOptions::default(), false);
    assert!(e.err().unwrap().to_string().contains("row 1: column \"mdtrt_id\": duplicate encounter id \"A\""));
    // A wrong column type names the column.
    let bad = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("mdtrt_id", arrow_schema::DataType::Utf8, false),
            arrow_schema::Field::new("gend", arrow_schema::DataType::Boolean, true),
        ])),
        vec![s(&["A"]), Arc::new(arrow_array::BooleanArray::from(vec![true])) as ArrayRef],
    )
    .unwrap();
    let c = Claims { mdtrt: vec![bad], ..Default::default() };
    let e = chs().group_claims(&c, &GroupOptions::default(), false);
    assert!(e.err().unwrap().to_string().starts_with("claims table mdtrt: column \"gend\": has type Boolean"));
    // Empty claims: no results, no error. A case without diagnoses rows is invalid, not dropped.
    let c = Claims::default();
    let out = chs().group_claims(&c, &GroupOptions::default(), false).unwrap();
    assert!(out.results.is_empty());
    let c = Claims { mdtrt: vec![m], ..Default::default() };
    let out = chs().group_claims(&c, &GroupOptions::default(), false).unwrap();
    assert_eq!(out.results.len(), 2);
    assert!(out.results.iter().all(|r| r.grouping.reason.map(|x| x.code()).as_deref() == Some("age_missing")));
}

#[test]
fn dates_give_age_days_and_length_of_stay() {
    use arrow_array::{Date32Array, TimestampSecondArray};
    let s = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    let day = |d: &str| medaudit_core::time::parse_datetime(d).unwrap();
    // A newborn admitted at 3 days old, 2 days in hospital, 2,100 g: PS3 needs the weight band and
    // age in days ≤ 28; Beijing's RC1 needs the length of stay from the dates.
    let m = batch(
        ClaimsTable::Mdtrt,
        vec![
            ("mdtrt_id", s(&["N", "R"])),
            ("gend", s(&["1", "1"])),
            (
                "brdy",
                Arc::new(Date32Array::from(vec![
                    (day("2026-01-01") / 86_400) as i32,
                    (day("1960-05-01") / 86_400) as i32,
                ])) as ArrayRef,
            ),
            (
                "begntime",
                Arc::new(TimestampSecondArray::from(vec![day("2026-01-04"), day("2026-03-01 09:00")])) as ArrayRef,
            ),
            (
                "endtime",
                Arc::new(TimestampSecondArray::from(vec![day("2026-01-06"), day("2026-03-08 10:00")])) as ArrayRef,
            ),
            ("nwb_bir_wt", Arc::new(Float64Array::from(vec![Some(2100.0), None])) as ArrayRef),
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/chs-drg-1.1/scheme.json")).unwrap()).unwrap();
    let ps = json["code_lists"]["PS1.dx"]["codes"][0].as_str().unwrap().to_string();
    let d = batch(
        ClaimsTable::Diagnoses,
        vec![("mdtrt_id", s(&["N", "R", "R"])), ("diag_code", s(&[&ps, "Z51.003", "C34.900x001"]))],
    );
    let o = batch(ClaimsTable::Operations, vec![("mdtrt_id", s(&["R"])), ("oprn_oprt_code", s(&["92.2400x005"]))]);
    let c = Claims { mdtrt: vec![m], diagnoses: vec![d], operations: vec![o], ..Default::default() };
    let out = chs().group_claims(&c, &GroupOptions::default(), false).unwrap();
    assert_eq!(out.results[0].grouping.adrg, "PS3", "{:?}", out.results[0]);
    let out = beijing().group_claims(&c, &GroupOptions::default(), false).unwrap();
    assert_eq!(out.results[1].grouping.drg, "RC14", "7 days: the 6–12 day split");
}

#[test]
fn ambiguous_group_and_rules_without_otherwise_from_scheme_data() {
    let (json, files) = files("chs-drg-1.1");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mdcs = v["mdcs"].as_array().unwrap();
    let e = mdcs.iter().position(|m| m["code"] == "MDCE").unwrap();
    // Enable MDCE's QY check (disabled in CHS-DRG 1.1): a pneumonia with a valid OR procedure that
    // no surgical rule of MDCE describes (a colectomy) is ambiguous.
    v["mdcs"][e]["qy"]["enabled"] = true.into();
    let s = DrgScheme::load(&v.to_string(), &files).unwrap();
    let c = case(1, 60, &["J18.900"], &["45.7300x007"]);
    let g = s.group(&c, &GroupOptions::default());
    assert_eq!((g.status, g.status_code, g.mdc, g.adrg, g.drg), (Status::Ambiguous, "QY", "MDCE", "QY", "EQY"));
    // As published (QY disabled) the case falls to MDCE's medical rules.
    assert_eq!(chs().group(&c, &GroupOptions::default()).drg, "ES35");
    // A QY position past the end of the rules is refused with its path.
    v["mdcs"][e]["qy"]["position"] = 999.into();
    let err = DrgScheme::load(&v.to_string(), &files).err().unwrap().to_string();
    assert!(err.contains(&format!("$.mdcs[{e}].qy.position: expected an index 0..=")), "{err}");

    // `otherwise: null` (as in some regional variants): a rule whose splits all fail does not
    // match and the next rule is tried. Make ES3's only split need an MCC.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rules = v["mdcs"][e]["adrg_rules"].as_array_mut().unwrap();
    let es3 = rules.iter().position(|r| r["id"] == "ES3").unwrap();
    rules[es3]["drgs"] = serde_json::json!([{"code": "ES31", "when": {"mcc": true}, "name": "x"}]);
    rules[es3]["otherwise"] = serde_json::Value::Null;
    let s2 = DrgScheme::load(&v.to_string(), &files).unwrap();
    let g = s2.group(&case(1, 60, &["J18.900"], &[]), &GroupOptions::default());
    assert_ne!(g.adrg, "ES3", "{g:?}");
    assert_eq!(s2.group(&case(1, 60, &["J18.900", "J96.900x001"], &[]), &GroupOptions::default()).drg, "ES31");
    // With a string otherwise, the bare ADRG is the result.
    v["mdcs"][e]["adrg_rules"][es3]["otherwise"] = "ES3".into();
    let s3 = DrgScheme::load(&v.to_string(), &files).unwrap();
    let g = s3.group(&case(1, 60, &["J18.900"], &[]), &GroupOptions::default());
    assert_eq!((g.status, g.adrg, g.drg), (Status::Grouped, "ES3", "ES3"));
}
