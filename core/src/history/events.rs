//! Owned history events: fixed-size records whose strings live in one shared text arena, so that
//! buffering an event costs no allocation of its own (millions of small allocations per batch
//! were most of the streaming time before).

use crate::templates::history::Ev;
use serde::{Deserialize, Serialize};

/// A string in the arena: start (low 40 bits) and length (high 24 bits); `NONE` for null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct R(u64);

impl R {
    const NONE: R = R(u64::MAX);
}

/// One event, its strings as ranges of [`Events::text`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Fixed {
    rule: u32,
    sub: u32,
    time: i64,
    end: Option<i64>,
    amount: Option<f64>,
    cnt: Option<f64>,
    prd_days: Option<f64>,
    brdy: Option<i64>,
    scene: u8,
    planned: bool,
    key: R,
    mdtrt_id: R,
    sn: R,
    psn: R,
    fac: R,
    code: R,
    name: R,
    dept: R,
    diag: R,
    gend: R,
}

/// A list of events with their strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Events {
    text: String,
    evs: Vec<Fixed>,
}

/// Strings longer than this are cut when buffered (codes and ids are far shorter).
const MAX_LEN: usize = (1 << 24) - 1;

#[inline]
fn get(text: &str, r: R) -> Option<&str> {
    if r == R::NONE {
        return None;
    }
    let start = (r.0 & ((1 << 40) - 1)) as usize;
    let len = (r.0 >> 40) as usize;
    text.get(start..start + len)
}

#[inline]
fn view<'a>(text: &'a str, f: &Fixed) -> Ev<'a> {
    Ev {
        rule: f.rule,
        key: get(text, f.key).unwrap_or_default(),
        sub: f.sub,
        time: f.time,
        end: f.end,
        mdtrt_id: get(text, f.mdtrt_id).unwrap_or_default(),
        sn: get(text, f.sn),
        psn: get(text, f.psn),
        fac: get(text, f.fac),
        code: get(text, f.code),
        name: get(text, f.name),
        dept: get(text, f.dept),
        amount: f.amount,
        cnt: f.cnt,
        prd_days: f.prd_days,
        scene: f.scene,
        diag: get(text, f.diag),
        planned: f.planned,
        gend: get(text, f.gend),
        brdy: f.brdy,
    }
}

impl Events {
    pub fn len(&self) -> usize {
        self.evs.len()
    }

    fn put(&mut self, s: Option<&str>) -> R {
        let Some(s) = s else { return R::NONE };
        // Cut on a char boundary at most MAX_LEN bytes in.
        let mut n = s.len().min(MAX_LEN);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let start = self.text.len() as u64;
        self.text.push_str(s.get(..n).unwrap_or_default());
        R((start & ((1 << 40) - 1)) | ((n as u64) << 40))
    }

    /// Appends a copy of `e`.
    pub fn add(&mut self, e: &Ev) {
        let f = Fixed {
            rule: e.rule,
            sub: e.sub,
            time: e.time,
            end: e.end,
            amount: e.amount,
            cnt: e.cnt,
            prd_days: e.prd_days,
            brdy: e.brdy,
            scene: e.scene,
            planned: e.planned,
            key: self.put(Some(e.key)),
            mdtrt_id: self.put(Some(e.mdtrt_id)),
            sn: self.put(e.sn),
            psn: self.put(e.psn),
            fac: self.put(e.fac),
            code: self.put(e.code),
            name: self.put(e.name),
            dept: self.put(e.dept),
            diag: self.put(e.diag),
            gend: self.put(e.gend),
        };
        self.evs.push(f);
    }

    /// The events in their current order.
    pub fn iter(&self) -> impl Iterator<Item = Ev<'_>> {
        self.evs.iter().map(|f| view(&self.text, f))
    }

    /// The latest event time.
    pub fn max_time(&self) -> Option<i64> {
        self.evs.iter().map(|f| f.time).max()
    }

    /// The first event (in the current order) with the smallest time, if any is before `t`.
    pub fn first_before(&self, t: i64) -> Option<Ev<'_>> {
        self.evs.iter().filter(|f| f.time < t).min_by_key(|f| f.time).map(|f| view(&self.text, f))
    }

    /// Sorts by the judging order ([`super::cmp_ev`]), comparing the leading fields straight
    /// from the records (bytes compare as the strings do) and building views only on ties.
    pub fn sort(&mut self) {
        let text = &self.text;
        let bytes = |r: R| get(text, r).map(str::as_bytes);
        self.evs.sort_unstable_by(|a, b| {
            a.rule
                .cmp(&b.rule)
                .then_with(|| bytes(a.key).cmp(&bytes(b.key)))
                .then_with(|| a.sub.cmp(&b.sub))
                .then_with(|| a.time.cmp(&b.time))
                .then_with(|| bytes(a.mdtrt_id).cmp(&bytes(b.mdtrt_id)))
                .then_with(|| bytes(a.sn).cmp(&bytes(b.sn)))
                .then_with(|| super::cmp_ev(&view(text, a), &view(text, b)))
        });
    }

    /// Moves `other`'s events to the end of `self`.
    pub fn append(&mut self, other: &Events) {
        self.text.reserve(other.text.len());
        self.evs.reserve(other.evs.len());
        for e in other.iter() {
            self.add(&e);
        }
    }

    /// Splits off the events before `cutoff` (all when `None`); `self` keeps the rest, with its
    /// text compacted to them.
    pub fn take_before(&mut self, cutoff: Option<i64>) -> Events {
        let ready = |f: &Fixed| cutoff.is_none_or(|c| f.time < c);
        let mut kept = Events::default();
        for f in self.evs.iter().filter(|f| !ready(f)) {
            kept.add(&view(&self.text, f));
        }
        let mut out = std::mem::replace(self, kept);
        out.evs.retain(ready);
        out
    }
}
