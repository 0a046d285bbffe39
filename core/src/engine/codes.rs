//! Code lookup: the exact/prefix index of knowledge keys, code pattern sets compiled into one
//! multi-pattern automaton, and the fast hasher used to intern codes.
//!
//! Each distinct code of a batch is looked up once; lines then carry only a small integer.

use crate::error::{Error, Result};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use smallvec::SmallVec;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// `a == b`, inline for the short ids and codes of claims (a call to `memcmp` costs more than the
/// compare): equal lengths, then one fixed-size load from each end (they overlap for lengths
/// that are not twice the load), up to 32 bytes.
#[inline(always)]
pub(crate) fn same_str(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_str`] over bytes.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Loads as integers, so that each compare is one instruction, not a call. `at + K <= n` in
    // every call below, so a load never falls back to zero.
    fn load<const K: usize>(s: &[u8], at: usize) -> [u8; K] {
        s.get(at..at + K).and_then(|w| <[u8; K]>::try_from(w).ok()).unwrap_or([0; K])
    }
    let w2 = |s: &[u8], at: usize| u16::from_ne_bytes(load(s, at));
    let w4 = |s: &[u8], at: usize| u32::from_ne_bytes(load(s, at));
    let w8 = |s: &[u8], at: usize| u64::from_ne_bytes(load(s, at));
    let w16 = |s: &[u8], at: usize| u128::from_ne_bytes(load(s, at));
    match n {
        0 => true,
        1 => a.first() == b.first(),
        2..=3 => w2(a, 0) == w2(b, 0) && w2(a, n - 2) == w2(b, n - 2),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        // Not a loop: LLVM turns a loop of compares back into a call to `bcmp`.
        17..=32 => w16(a, 0) == w16(b, 0) && w16(a, n - 16) == w16(b, n - 16),
        _ => a == b,
    }
}

/// `a.cmp(b)` in byte order (as `str` orders), inline for the short ids of claims: big-endian
/// words compare like their bytes, so up to 32 common bytes take at most four integer compares.
#[inline(always)]
pub(crate) fn cmp_str(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::Equal;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    fn load<const K: usize>(s: &[u8], at: usize) -> [u8; K] {
        s.get(at..at + K).and_then(|w| <[u8; K]>::try_from(w).ok()).unwrap_or([0; K])
    }
    let w4 = |s: &[u8], at: usize| u32::from_be_bytes(load(s, at));
    let w8 = |s: &[u8], at: usize| u64::from_be_bytes(load(s, at));
    // The first `n` bytes; the bytes before a load at `n - K` are already known to be equal.
    let head = match n {
        0..=3 => a.iter().zip(b).map(|(x, y)| x.cmp(y)).find(|c| *c != Equal).unwrap_or(Equal),
        4..=7 => w4(a, 0).cmp(&w4(b, 0)).then_with(|| w4(a, n - 4).cmp(&w4(b, n - 4))),
        8..=32 => {
            let mut c = Equal;
            for at in [0, 8, 16] {
                if c == Equal && at + 8 < n {
                    c = w8(a, at).cmp(&w8(b, at));
                }
            }
            c.then_with(|| w8(a, n - 8).cmp(&w8(b, n - 8)))
        }
        _ => a.get(..n).cmp(&b.get(..n)),
    };
    head.then(a.len().cmp(&b.len()))
}

/// Slots of [`RecentCodes`] and [`RecentOwned`] (a power of two).
const RECENT_SLOTS: usize = 4096;

/// The slot of `b` in a cache of recent codes.
#[inline]
fn recent_slot(b: &[u8]) -> usize {
    // Fixed-size loads (no call to memcpy): codes of 8 bytes or more are read as two words,
    // shorter ones byte by byte.
    let (head, tail) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(h), Some(t)) => (u64::from_le_bytes(*h), u64::from_le_bytes(*t)),
        _ => {
            let w = b.iter().enumerate().fold(0u64, |w, (i, x)| w | (u64::from(*x) << (8 * i)));
            (w, w)
        }
    };
    let x = (head ^ tail.rotate_left(29) ^ (b.len() as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> (64 - RECENT_SLOTS.trailing_zeros())) as usize
}

/// A direct-mapped cache of recent answers about codes (an entry list id, a pattern test), in
/// front of a slower lookup: the slot is chosen from the code's length and its first and last 8
/// bytes, and a hit is confirmed by comparing the bytes, so a wrong answer is impossible and a
/// collision only costs a lookup. Codes repeat heavily in fee lines, so most rows are answered
/// without hashing the whole code or probing a map.
pub(crate) struct RecentCodes<'a, V> {
    slots: Vec<Option<(&'a [u8], V)>>,
}

impl<'a, V: Copy> RecentCodes<'a, V> {
    /// A cache, or a disabled one (every `get` misses) when `enabled` is false: below about a
    /// thousand rows, filling the slots costs more than the lookups it saves.
    pub fn new(enabled: bool) -> Self {
        RecentCodes { slots: if enabled { vec![None; RECENT_SLOTS] } else { Vec::new() } }
    }

    /// The cached answer for `code`, if any.
    #[inline]
    pub fn get(&self, code: &[u8]) -> Option<V> {
        if self.slots.is_empty() {
            return None;
        }
        match self.slots.get(recent_slot(code)) {
            Some(Some((c, v))) if same_bytes(c, code) => Some(*v),
            _ => None,
        }
    }

    /// Remembers `v` for `code`, replacing whatever shared its slot.
    #[inline]
    pub fn put(&mut self, code: &'a [u8], v: V) {
        if self.slots.is_empty() {
            return;
        }
        if let Some(e) = self.slots.get_mut(recent_slot(code)) {
            *e = Some((code, v));
        }
    }
}

/// [`RecentCodes`] that keeps its own copy of each code (codes of up to [`RecentOwned::KEY`]
/// bytes; longer ones are never cached), for a cache that outlives the arrays it was filled
/// from: one per pattern test of an expression rule, across all the batches of a check.
pub(crate) struct RecentOwned<V> {
    slots: Vec<Option<([u8; RecentOwned::<()>::KEY], u8, V)>>,
}

impl<V: Copy> RecentOwned<V> {
    /// The longest code kept (national drug codes have 23 characters, consumable codes 20).
    pub const KEY: usize = 30;

    pub fn new() -> Self {
        RecentOwned { slots: vec![None; RECENT_SLOTS] }
    }

    /// The cached answer for `code`, if any.
    #[inline]
    pub fn get(&self, code: &[u8]) -> Option<V> {
        match self.slots.get(recent_slot(code)) {
            Some(Some((k, n, v))) if k.get(..usize::from(*n)).is_some_and(|k| same_bytes(k, code)) => Some(*v),
            _ => None,
        }
    }

    /// Remembers `v` for `code` (if it is short enough), replacing whatever shared its slot.
    pub fn put(&mut self, code: &[u8], v: V) {
        let mut key = [0u8; RecentOwned::<()>::KEY];
        let (Some(dst), Ok(n)) = (key.get_mut(..code.len()), u8::try_from(code.len())) else { return };
        dst.copy_from_slice(code);
        if let Some(e) = self.slots.get_mut(recent_slot(code)) {
            *e = Some((key, n, v));
        }
    }
}

/// A small, fast, non-cryptographic hasher for interning codes: one folded multiply per 8 bytes
/// (as in foldhash and wyhash). A plain Fx hash (multiply only) leaves the low bits, which
/// hashbrown uses to pick a bucket, blind to the high bytes of a word, so keys such as
/// `MD0000012345` collide by the thousand; a test below guards against that.
/// Codes are not attacker-chosen keys of a long-lived map: each map lives for one check call.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl FxHasher {
    /// Folded multiply: the 128-bit product's halves XORed, so every input bit reaches every
    /// output bit (a plain multiply only carries low bits upward).
    #[inline]
    fn add(&mut self, w: u64) {
        let x = u128::from(self.hash ^ w).wrapping_mul(u128::from(SEED));
        self.hash = (x as u64) ^ ((x >> 64) as u64);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(w) ^ ((bytes.len() as u64) << 56));
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Entry ids found for one code.
pub type EntryList = SmallVec<[u32; 4]>;

/// Knowledge keys: exact codes and code prefixes, each to the entries they select.
#[derive(Default)]
pub struct CodeIndex {
    exact: FxHashMap<Box<str>, EntryList>,
    prefix: FxHashMap<Box<str>, EntryList>,
    prefix_lens: Vec<usize>,
}

impl CodeIndex {
    pub fn add(&mut self, key: &str, prefix: bool, entry: u32) {
        let map = if prefix { &mut self.prefix } else { &mut self.exact };
        map.entry(key.into()).or_default().push(entry);
        if prefix && !self.prefix_lens.contains(&key.len()) {
            self.prefix_lens.push(key.len());
            self.prefix_lens.sort_unstable();
        }
    }

    /// All entries selecting `code`, in ascending entry order.
    pub fn lookup(&self, code: &str, out: &mut EntryList) {
        out.clear();
        if let Some(e) = self.exact.get(code) {
            out.extend_from_slice(e);
        }
        for &len in &self.prefix_lens {
            if len > code.len() {
                break;
            }
            if let Some(p) = code.get(..len) {
                if let Some(e) = self.prefix.get(p) {
                    out.extend_from_slice(e);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// The pack's code sets compiled into one anchored multi-pattern automaton.
pub struct CodeSets {
    names: Vec<String>,
    regex: Option<Regex>,
    /// Pattern index → set index.
    pattern_set: Vec<usize>,
    /// Each set's patterns, in set index order.
    patterns: Vec<Vec<String>>,
}

impl CodeSets {
    /// Compiles every pattern of every set. An invalid pattern fails naming its JSON path.
    pub fn compile(sets: &BTreeMap<String, Vec<String>>) -> Result<Self> {
        let mut names = Vec::new();
        let mut pats = Vec::new();
        let mut pattern_set = Vec::new();
        let mut patterns = Vec::new();
        for (si, (name, list)) in sets.iter().enumerate() {
            names.push(name.clone());
            patterns.push(list.clone());
            for (pi, p) in list.iter().enumerate() {
                // Validate each pattern alone so the error can name it.
                Regex::new(p).map_err(|e| Error::Pack {
                    field: format!("$.code_sets.{name}[{pi}]"),
                    message: format!("invalid pattern {p:?}: {e}"),
                })?;
                pats.push(p.as_str());
                pattern_set.push(si);
            }
        }
        let regex = if pats.is_empty() {
            None
        } else {
            Some(Regex::builder().configure(Regex::config().match_kind(MatchKind::All)).build_many(&pats).map_err(
                |e| Error::Pack {
                    field: "$.code_sets".into(),
                    message: format!("cannot compile the code sets together: {e}"),
                },
            )?)
        };
        Ok(CodeSets { names, regex, pattern_set, patterns })
    }

    /// Set names, in index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Index of set `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Sets matched by `code` (patterns anchored at the start of the code), as bits in `out`
    /// (one `u64` per 64 sets; `out` must have [`Self::words`] words).
    pub fn matches(&self, code: &str, out: &mut [u64]) {
        out.iter_mut().for_each(|w| *w = 0);
        let Some(re) = &self.regex else { return };
        let mut ps = PatternSet::new(re.pattern_len());
        re.which_overlapping_matches(&Input::new(code).anchored(Anchored::Yes), &mut ps);
        for pid in ps.iter() {
            if let Some(&s) = self.pattern_set.get(pid.as_usize()) {
                if let Some(w) = out.get_mut(s / 64) {
                    *w |= 1 << (s % 64);
                }
            }
        }
    }

    /// The patterns of set `i`.
    pub fn patterns(&self, i: usize) -> &[String] {
        self.patterns.get(i).map_or(&[], Vec::as_slice)
    }

    /// Words per bitset.
    pub fn words(&self) -> usize {
        self.names.len().div_ceil(64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_str_is_string_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "MD0000000123",
            "MD0000000124",
            "ND0000000123",
            "MD00000001234567",
            "MD00000001234568",
            "MD000000012345678",
            "MD000000012345679",
            "中文编码",
            "中文编玛",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_str(a, b), a == b, "{a:?} {b:?}");
            }
        }
        // Every length through three words, and a difference at every position of it: each byte
        // is read by some load.
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "length {n}");
            for i in 0..n {
                let mut b = a.clone();
                if let Some(x) = b.get_mut(i) {
                    *x = b'#';
                }
                assert!(!same_bytes(&a, &b), "length {n}, difference at {i}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0, "length {n} against {}", n.saturating_sub(1));
        }
    }

    #[test]
    fn cmp_str_is_string_order() {
        let mut words: Vec<String> = ["", "a", "b", "ab", "ba", "abc", "中文", "中文编码", "\u{7f}", "\u{80}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Every length through 40 bytes, and a lower and a higher byte at every position of it.
        for n in 0..=40usize {
            let a: String = (0..n).map(|i| char::from(b'b' + (i % 20) as u8)).collect();
            for i in 0..n {
                for x in ['a', 'z'] {
                    let mut b = a.clone().into_bytes();
                    if let Some(c) = b.get_mut(i) {
                        *c = x as u8;
                    }
                    words.push(String::from_utf8(b).unwrap_or_default());
                }
            }
            words.push(a);
        }
        for a in &words {
            for b in &words {
                assert_eq!(cmp_str(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn recent_owned_answers_only_for_the_same_bytes() {
        let mut c = RecentOwned::new();
        let drug = "XL01XEA123A001010101234"; // 23 bytes: a national drug code
        let long = "X".repeat(RecentOwned::<bool>::KEY + 1);
        assert_eq!(c.get(drug.as_bytes()), None);
        c.put(drug.as_bytes(), true);
        c.put(b"C34.901", false);
        c.put(long.as_bytes(), true);
        assert_eq!(c.get(drug.as_bytes()), Some(true));
        assert_eq!(c.get(b"C34.901"), Some(false));
        assert_eq!(c.get(b"C34.902"), None, "a code never put");
        assert_eq!(c.get(long.as_bytes()), None, "codes longer than KEY are not kept");
        // Whatever shares a slot, an answer is only given for the bytes it was put for.
        for i in 0..20_000u32 {
            let k = format!("K{i}");
            c.put(k.as_bytes(), i % 2 == 0);
        }
        for i in 0..20_000u32 {
            let k = format!("K{i}");
            assert!(c.get(k.as_bytes()).is_none_or(|v| v == (i % 2 == 0)), "{k}");
        }
    }

    #[test]
    fn hasher_spreads_sequential_ids_over_low_bits() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let b = BuildHasherDefault::<FxHasher>::default();
        let mut low: std::collections::HashSet<u64> = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            low.insert(b.hash_one(format!("MD{i:010}")) & 0xffff);
        }
        // 100k keys over 65,536 low-bit patterns: a good hash fills most of them.
        assert!(low.len() > 50_000, "only {} distinct low-16-bit patterns", low.len());
    }

    #[test]
    fn prefix_and_exact_lookup_in_entry_order() {
        let mut ix = CodeIndex::default();
        ix.add("XA01", true, 3);
        ix.add("XA01BC", false, 1);
        ix.add("XA", true, 2);
        let mut out = EntryList::new();
        ix.lookup("XA01BC", &mut out);
        assert_eq!(out.as_slice(), &[1, 2, 3]);
        ix.lookup("XB", &mut out);
        assert!(out.is_empty());
        ix.lookup("X", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn code_sets_match_anchored_overlapping() {
        let mut sets = BTreeMap::new();
        sets.insert("htn".to_string(), vec!["I1[0-5]".to_string()]);
        sets.insert("cancer".to_string(), vec!["C".to_string(), "D0[0-9]".to_string()]);
        sets.insert("i10".to_string(), vec!["I10".to_string()]);
        let cs = CodeSets::compile(&sets).unwrap();
        let mut bits = vec![0u64; cs.words()];
        cs.matches("I10.x05", &mut bits);
        let htn = cs.index("htn").unwrap();
        let i10 = cs.index("i10").unwrap();
        assert_eq!(bits[0], (1 << htn) | (1 << i10));
        cs.matches("XI10", &mut bits);
        assert_eq!(bits[0], 0);
        let bad: BTreeMap<String, Vec<String>> = [("x".to_string(), vec!["(".to_string()])].into();
        let e = CodeSets::compile(&bad).err().unwrap();
        assert!(e.to_string().contains("$.code_sets.x[0]"));
    }
}
