//! Text in and out: borrowing caller text with length and UTF-8 checks, and library-owned strings
//! handed to the caller (freed with `medaudit_string_free`, guarded against double free).

use crate::status::{FfiError, FfiResult, MedauditStatus};
use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::sync::{Mutex, OnceLock};

/// Pass as a length to say "the text is NUL-terminated; measure it".
pub const MEDAUDIT_NUL_TERMINATED: usize = usize::MAX;

/// Borrows `len` bytes at `ptr` as UTF-8 (`len == MEDAUDIT_NUL_TERMINATED`: up to the first NUL).
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes (or a NUL-terminated string when `len` is
/// `MEDAUDIT_NUL_TERMINATED`) that stay unchanged for the returned lifetime.
pub(crate) unsafe fn borrow_text<'a>(ptr: *const c_char, len: usize, what: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::null(what));
    }
    let bytes: &[u8] = if len == MEDAUDIT_NUL_TERMINATED {
        // SAFETY: the caller promises a NUL-terminated string at `ptr` (non-NULL, checked above).
        unsafe { CStr::from_ptr(ptr) }.to_bytes()
    } else {
        if len > isize::MAX as usize {
            return Err(FfiError::arg(format!(
                "{what}: length {len} is larger than any object can be (use MEDAUDIT_NUL_TERMINATED for a NUL-terminated string)"
            )));
        }
        // SAFETY: `ptr` is non-NULL, the caller promises `len` readable bytes that outlive 'a,
        // and `len <= isize::MAX` was checked above.
        unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
    };
    utf8(bytes, what)
}

/// `bytes` as UTF-8, or `MEDAUDIT_INVALID_UTF8` naming `what` and the byte offset.
pub(crate) fn utf8<'a>(bytes: &'a [u8], what: &str) -> FfiResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        FfiError::new(
            MedauditStatus::MEDAUDIT_INVALID_UTF8,
            format!("{what}: invalid UTF-8 at byte offset {}", e.valid_up_to()),
        )
    })
}

/// Borrows an optional NUL-terminated UTF-8 string (`NULL` gives `None`).
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string that stays unchanged for the returned lifetime.
pub(crate) unsafe fn borrow_opt_cstr<'a>(ptr: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    unsafe { borrow_text(ptr, MEDAUDIT_NUL_TERMINATED, what) }.map(Some)
}

fn live_strings() -> &'static Mutex<HashSet<usize>> {
    static LIVE: OnceLock<Mutex<HashSet<usize>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Hands `text` to the caller as a library-owned, NUL-terminated string and its length.
///
/// # Safety
/// `out` and `out_len` must be valid for writes (checked non-NULL by the caller).
pub(crate) unsafe fn give_string(text: String, out: *mut *mut c_char, out_len: *mut usize) -> FfiResult<()> {
    let len = text.len();
    // JSON text never holds a raw NUL (serde escapes it), so this only fails on a bug.
    let c = CString::new(text)
        .map_err(|_| FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, "response holds a NUL byte"))?;
    let raw = c.into_raw();
    live_strings().lock().unwrap_or_else(|p| p.into_inner()).insert(raw as usize);
    // SAFETY: the caller checked both pointers non-NULL and promises they are valid for writes.
    unsafe {
        *out = raw;
        *out_len = len;
    }
    Ok(())
}

/// Frees a string given by [`give_string`]; an unknown pointer is an error, never a free.
pub(crate) fn free_string(s: *mut c_char) -> FfiResult<()> {
    if s.is_null() {
        return Ok(());
    }
    let known = live_strings().lock().unwrap_or_else(|p| p.into_inner()).remove(&(s as usize));
    if !known {
        return Err(FfiError::new(
            MedauditStatus::MEDAUDIT_INVALID_HANDLE,
            "medaudit_string_free: not a live string of this library (already freed, or not returned by medaudit)",
        ));
    }
    // SAFETY: `s` was produced by `CString::into_raw` in `give_string` and has just been removed
    // from the live set, so it is freed exactly once.
    drop(unsafe { CString::from_raw(s) });
    Ok(())
}
