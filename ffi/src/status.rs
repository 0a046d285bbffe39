//! Status codes, the thread-local last error, and the guard every entry point runs its body in.
//!
//! Every exported function returns a [`MedauditStatus`] (or, for the three functions that cannot
//! fail, a value). On failure the calling thread's last-error message and kind are set; they stay
//! readable with `medaudit_last_error()` / `medaudit_last_error_kind()` until that thread's next
//! call into the library. No panic ever unwinds into the caller: [`guard`] catches it and turns it
//! into [`MedauditStatus::MEDAUDIT_INTERNAL`].

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// The result of every fallible call. `MEDAUDIT_OK` is 0; every other value is an error whose
/// message `medaudit_last_error()` returns on the same thread. New codes may be added in later
/// versions (with a new `MEDAUDIT_ABI_VERSION` only if an existing code changes meaning): treat
/// unknown non-zero values as errors.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum MedauditStatus {
    /// Success.
    MEDAUDIT_OK = 0,
    /// A required pointer argument was NULL.
    MEDAUDIT_NULL_POINTER = 1,
    /// An argument is out of range or inconsistent (a length above `PTRDIFF_MAX`, a count with a
    /// NULL array, an unknown stage or rule id, an unknown table in a column map, …).
    MEDAUDIT_INVALID_ARGUMENT = 2,
    /// The engine handle is not a live engine of this library (never returned, or already freed).
    MEDAUDIT_INVALID_HANDLE = 3,
    /// Text that must be UTF-8 is not; the message gives the byte offset.
    MEDAUDIT_INVALID_UTF8 = 4,
    /// A JSON argument (request, claims, knowledge rows, options) is not JSON or does not have the
    /// documented shape; the message names the JSON path at fault.
    MEDAUDIT_INVALID_JSON = 5,
    /// The rule pack is invalid (bad JSON, unknown template, bad parameter, …); the message names
    /// the rule id and field, or the JSON path.
    MEDAUDIT_PACK_ERROR = 6,
    /// A knowledge table is invalid; the message names the table, column and row.
    MEDAUDIT_KNOWLEDGE_ERROR = 7,
    /// A claims column is missing or has a type medaudit cannot read; the message names the table
    /// and column and lists the accepted types.
    MEDAUDIT_COLUMN_ERROR = 8,
    /// A claims value a rule needs is unusable (a null amount, an encounter missing from mdtrt);
    /// the message names the table, row, column and rule.
    MEDAUDIT_VALUE_ERROR = 9,
    /// An Arrow C Data / C Stream structure could not be imported or exported (already released,
    /// producer error, invalid buffers, a stream whose arrays are not structs).
    MEDAUDIT_ARROW_ERROR = 10,
    /// An internal error: a bug in medaudit (a caught panic). The call had no effect; the engine
    /// stays usable. Please report the message.
    MEDAUDIT_INTERNAL = 11,
}

use MedauditStatus::*;

impl MedauditStatus {
    /// The stable kind string of a C-layer error (errors from the engine use the core's kinds).
    pub(crate) fn kind(self) -> &'static str {
        match self {
            MEDAUDIT_OK => "",
            MEDAUDIT_NULL_POINTER => "null_pointer",
            MEDAUDIT_INVALID_ARGUMENT => "invalid_argument",
            MEDAUDIT_INVALID_HANDLE => "invalid_handle",
            MEDAUDIT_INVALID_UTF8 => "invalid_utf8",
            MEDAUDIT_INVALID_JSON => "json",
            MEDAUDIT_PACK_ERROR => "pack",
            MEDAUDIT_KNOWLEDGE_ERROR => "knowledge",
            MEDAUDIT_COLUMN_ERROR => "column",
            MEDAUDIT_VALUE_ERROR => "value",
            MEDAUDIT_ARROW_ERROR => "arrow",
            MEDAUDIT_INTERNAL => "internal",
        }
    }

    /// A static, NUL-terminated description.
    pub(crate) fn describe(self) -> &'static std::ffi::CStr {
        match self {
            MEDAUDIT_OK => c"ok",
            MEDAUDIT_NULL_POINTER => c"null pointer",
            MEDAUDIT_INVALID_ARGUMENT => c"invalid argument",
            MEDAUDIT_INVALID_HANDLE => c"invalid engine handle",
            MEDAUDIT_INVALID_UTF8 => c"invalid UTF-8",
            MEDAUDIT_INVALID_JSON => c"invalid JSON",
            MEDAUDIT_PACK_ERROR => c"rule pack error",
            MEDAUDIT_KNOWLEDGE_ERROR => c"knowledge table error",
            MEDAUDIT_COLUMN_ERROR => c"claims column error",
            MEDAUDIT_VALUE_ERROR => c"claims value error",
            MEDAUDIT_ARROW_ERROR => c"Arrow C data error",
            MEDAUDIT_INTERNAL => c"internal error",
        }
    }
}

/// An error on its way to the caller: status, kind and message.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: MedauditStatus,
    pub kind: &'static str,
    pub message: String,
}

impl FfiError {
    pub(crate) fn new(status: MedauditStatus, message: impl Into<String>) -> Self {
        FfiError { status, kind: status.kind(), message: message.into() }
    }
    pub(crate) fn null(argument: &str) -> Self {
        Self::new(MEDAUDIT_NULL_POINTER, format!("argument {argument} is NULL"))
    }
    pub(crate) fn arg(message: impl Into<String>) -> Self {
        Self::new(MEDAUDIT_INVALID_ARGUMENT, message)
    }
    pub(crate) fn json(message: impl Into<String>) -> Self {
        Self::new(MEDAUDIT_INVALID_JSON, message)
    }
    pub(crate) fn arrow(message: impl Into<String>) -> Self {
        Self::new(MEDAUDIT_ARROW_ERROR, message)
    }
}

/// Where a core error came from decides the status of `argument` errors: in a JSON input they are
/// shape errors of that JSON; elsewhere (rule ids, column maps) they are bad arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Reading JSON the caller gave (claims rows, request).
    Json,
    /// Anything else.
    Call,
}

pub(crate) fn core_err(e: medaudit_core::Error, ctx: Ctx) -> FfiError {
    use medaudit_core::Error as E;
    let status = match &e {
        E::PackJson { .. } | E::Rule { .. } | E::Pack { .. } => MEDAUDIT_PACK_ERROR,
        E::Knowledge { .. } => MEDAUDIT_KNOWLEDGE_ERROR,
        E::Column { .. } => MEDAUDIT_COLUMN_ERROR,
        E::Value { .. } => MEDAUDIT_VALUE_ERROR,
        E::Argument { .. } if ctx == Ctx::Json => MEDAUDIT_INVALID_JSON,
        _ => MEDAUDIT_INVALID_ARGUMENT,
    };
    FfiError { status, kind: e.kind(), message: e.to_string() }
}

/// Shorthand for results inside the library.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

struct LastError {
    message: CString,
    kind: &'static std::ffi::CStr,
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError { message: CString::default(), kind: c"" });
}

fn kind_cstr(kind: &str) -> &'static std::ffi::CStr {
    // Every kind the library produces, as static C strings (core kinds and C-layer kinds).
    const KINDS: &[&std::ffi::CStr] = &[
        c"pack_json",
        c"rule",
        c"pack",
        c"knowledge",
        c"column",
        c"value",
        c"argument",
        c"null_pointer",
        c"invalid_argument",
        c"invalid_handle",
        c"invalid_utf8",
        c"json",
        c"arrow",
        c"internal",
    ];
    KINDS.iter().copied().find(|k| k.to_bytes() == kind.as_bytes()).unwrap_or(c"internal")
}

/// `kind` as one of the library's static kind names ("internal" when it is none of them).
pub(crate) fn static_kind(kind: &str) -> &'static str {
    kind_cstr(kind).to_str().unwrap_or("internal")
}

fn set_last(kind: &str, message: &str) {
    // A message may quote user data holding NUL bytes; show them rather than cut the text.
    let text = if message.contains('\0') { message.replace('\0', "\\0") } else { message.to_string() };
    let c = CString::new(text).unwrap_or_default();
    // `try_with` fails only while the thread is being torn down; the status still tells.
    let _ = LAST.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.message = c;
            l.kind = kind_cstr(kind);
        }
    });
}

fn clear_last() {
    let _ = LAST.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            if !l.message.as_bytes().is_empty() {
                l.message = CString::default();
            }
            l.kind = c"";
        }
    });
}

/// The calling thread's last error message; empty after a successful call.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST.try_with(|l| l.try_borrow().map(|l| l.message.as_ptr()).unwrap_or(c"".as_ptr())).unwrap_or(c"".as_ptr())
}

/// The calling thread's last error kind; empty after a successful call.
pub(crate) fn last_error_kind_ptr() -> *const c_char {
    LAST.try_with(|l| l.try_borrow().map(|l| l.kind.as_ptr()).unwrap_or(c"".as_ptr())).unwrap_or(c"".as_ptr())
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

thread_local! {
    /// How many guarded calls this thread is inside (0: the host's own code).
    static IN_GUARD: Cell<u32> = const { Cell::new(0) };
    /// Where the last panic inside a guarded call happened.
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Installs, once, a panic hook that keeps panics caught by [`guard`] quiet (the library never
/// writes to the host's stderr) and remembers where they happened for the error message; panics
/// anywhere else go to the hook that was installed before, unchanged.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.try_with(Cell::get).unwrap_or(0) > 0 {
                let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let _ = PANIC_AT.try_with(|p| p.try_borrow_mut().map(|mut p| *p = at));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, returning `fallback` if it panics; for the functions that cannot fail and do not
/// touch the last error.
pub(crate) fn no_panic<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    install_quiet_hook();
    let _ = IN_GUARD.try_with(|d| d.set(d.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback);
    let _ = IN_GUARD.try_with(|d| d.set(d.get().saturating_sub(1)));
    r
}

/// Runs `body`, turning a panic into a `MEDAUDIT_INTERNAL` error (quietly, like [`guard`]); for
/// entry points that report errors themselves instead of through the last error (the JNI layer).
pub(crate) fn catch<T>(name: &str, body: impl FnOnce() -> FfiResult<T>) -> FfiResult<T> {
    install_quiet_hook();
    let _ = IN_GUARD.try_with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(body));
    let _ = IN_GUARD.try_with(|d| d.set(d.get().saturating_sub(1)));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            let at = PANIC_AT.try_with(|p| p.try_borrow_mut().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default());
            Err(FfiError::new(
                MEDAUDIT_INTERNAL,
                format!("{name}: internal error (caught panic{}): {text}", at.unwrap_or_default()),
            ))
        }
    }
}

/// Runs the body of an exported function: clears the last error, catches panics, records errors.
///
/// The body must leave every output in a defined state itself before it can fail (outputs are
/// written as "empty" first thing by each entry point).
pub(crate) fn guard(name: &str, body: impl FnOnce() -> FfiResult<()>) -> MedauditStatus {
    clear_last();
    install_quiet_hook();
    let _ = IN_GUARD.try_with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(body));
    let _ = IN_GUARD.try_with(|d| d.set(d.get().saturating_sub(1)));
    match result {
        Ok(Ok(())) => MEDAUDIT_OK,
        Ok(Err(e)) => {
            set_last(e.kind, &e.message);
            e.status
        }
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            // Dropping a payload can itself panic; never let that escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            let at = PANIC_AT.try_with(|p| p.try_borrow_mut().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default());
            set_last("internal", &format!("{name}: internal error (caught panic{}): {text}", at.unwrap_or_default()));
            MEDAUDIT_INTERNAL
        }
    }
}
