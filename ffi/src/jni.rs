//! JNI entry points of the Java binding (`org.medaudit.Engine` in `ffi/java`), in the same
//! libmedaudit as the C ABI. cbindgen does not read this module (`cbindgen:ignore` on `mod jni`),
//! so nothing here appears in `include/medaudit.h`.
//!
//! Rules, for every function:
//!
//! * the body runs under `catch_unwind` ([`status::catch`]): a panic becomes a thrown
//!   `org.medaudit.MedauditException` with status `MEDAUDIT_INTERNAL`, never an abort;
//! * every error becomes a thrown `org.medaudit.MedauditException(int status, String kind,
//!   String message)` carrying the C status code, the error class (the `medaudit_last_error_kind`
//!   names) and the message; a Java exception already pending (e.g. `OutOfMemoryError` while
//!   copying an array) is left to propagate unchanged;
//! * text crosses as UTF-8 `byte[]` (the Java side encodes and decodes), so no modified-UTF-8
//!   conversion is involved; a `null` array is a `MEDAUDIT_NULL_POINTER` error;
//! * engine handles are the C ABI's registry keys (`MedauditEngine*` as a `long`): a freed or
//!   made-up handle is reported (`MEDAUDIT_INVALID_HANDLE`), never dereferenced.
//!
//! The bodies reuse the C ABI's internals (engine registry, pre-alert, claims JSON, Arrow call).

use crate::engine::{self, MedauditEngine};
use crate::status::{self, FfiError, FfiResult, MedauditStatus};
use crate::text;
use ::jni::objects::{JByteArray, JClass, JThrowable, JValue};
use ::jni::sys::{jboolean, jbyteArray, jint, jlong, jstring, JNI_FALSE, JNI_TRUE};
use ::jni::JNIEnv;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use std::ffi::{CStr, CString};

const EXCEPTION_CLASS: &str = "org/medaudit/MedauditException";
const EXCEPTION_CTOR: &str = "(ILjava/lang/String;Ljava/lang/String;)V";

fn jni_err(e: ::jni::errors::Error) -> FfiError {
    FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, format!("JNI: {e}"))
}

fn new_exception(env: &mut JNIEnv, e: &FfiError) -> ::jni::errors::Result<()> {
    let kind = env.new_string(e.kind)?;
    let message = env.new_string(&e.message)?;
    let args = [JValue::Int(e.status as jint), JValue::Object(&kind), JValue::Object(&message)];
    let obj = env.new_object(EXCEPTION_CLASS, EXCEPTION_CTOR, &args)?;
    env.throw(JThrowable::from(obj))
}

/// Throws `e` as a `MedauditException` unless a Java exception is already pending.
fn throw(env: &mut JNIEnv, e: &FfiError) {
    if env.exception_check().unwrap_or(true) {
        return;
    }
    if new_exception(env, e).is_err() && !env.exception_check().unwrap_or(true) {
        // The exception class could not be made (e.g. not on the class path): still throw.
        let _ = env.throw_new("java/lang/RuntimeException", format!("[{}] {}", e.kind, e.message));
    }
}

/// Runs the body of an entry point: panics and errors become a thrown exception and `fallback`
/// is returned (the JVM ignores the return value while an exception is pending).
fn entry<'e, T>(
    env: &mut JNIEnv<'e>,
    name: &str,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'e>) -> FfiResult<T>,
) -> T {
    match status::catch(name, || body(env)) {
        Ok(v) => v,
        Err(e) => {
            // Throwing allocates Java objects; never let a panic there reach the JVM either.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| throw(env, &e)));
            fallback
        }
    }
}

/// The bytes of a Java `byte[]` (copied), or `MEDAUDIT_NULL_POINTER` for `null`.
fn bytes(env: &mut JNIEnv, array: &JByteArray, what: &str) -> FfiResult<Vec<u8>> {
    if array.is_null() {
        return Err(FfiError::null(what));
    }
    env.convert_byte_array(array).map_err(jni_err)
}

fn opt_bytes(env: &mut JNIEnv, array: &JByteArray, what: &str) -> FfiResult<Option<Vec<u8>>> {
    if array.is_null() {
        Ok(None)
    } else {
        bytes(env, array, what).map(Some)
    }
}

fn give(env: &mut JNIEnv, text: &str) -> FfiResult<jbyteArray> {
    Ok(env.byte_array_from_slice(text.as_bytes()).map_err(jni_err)?.into_raw())
}

fn handle(h: jlong) -> *mut MedauditEngine {
    h as usize as *mut MedauditEngine
}

/// `static native String version()`: the library version.
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_version<'e>(mut env: JNIEnv<'e>, _c: JClass<'e>) -> jstring {
    entry(&mut env, "version", std::ptr::null_mut(), |env| {
        Ok(env.new_string(medaudit_core::VERSION).map_err(jni_err)?.into_raw())
    })
}

/// `static native byte[] samplePack()`: the bundled sample rule pack (UTF-8 JSON).
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_samplePack<'e>(mut env: JNIEnv<'e>, _c: JClass<'e>) -> jbyteArray {
    entry(&mut env, "samplePack", std::ptr::null_mut(), |env| give(env, medaudit_core::pack::SAMPLE_PACK_JSON))
}

/// `static native long engineNew(byte[] pack, byte[] knowledgeOrNull)`: builds an engine from a
/// rule pack and, optionally, knowledge tables as JSON rows (`medaudit_engine_new`,
/// `medaudit_engine_new_with_knowledge_json`); returns its handle.
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_engineNew<'e>(
    mut env: JNIEnv<'e>,
    _c: JClass<'e>,
    pack: JByteArray<'e>,
    knowledge: JByteArray<'e>,
) -> jlong {
    entry(&mut env, "engineNew", 0, |env| {
        let pack_bytes = bytes(env, &pack, "pack")?;
        let knowledge_bytes = opt_bytes(env, &knowledge, "knowledge")?;
        let pack = engine::parse_pack(text::utf8(&pack_bytes, "pack_json")?)?;
        let tables = match &knowledge_bytes {
            Some(k) => engine::knowledge_from_json(text::utf8(k, "knowledge_json")?)?,
            None => Vec::new(),
        };
        let built = engine::build(pack, tables)?;
        Ok(engine::register(built) as usize as jlong)
    })
}

/// `static native void engineFree(long handle)`: frees an engine (`medaudit_engine_free`); 0 is
/// ignored; a handle that is not live throws `MEDAUDIT_INVALID_HANDLE`.
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_engineFree<'e>(mut env: JNIEnv<'e>, _c: JClass<'e>, h: jlong) {
    entry(&mut env, "engineFree", (), |_| engine::unregister(handle(h)))
}

/// `static native byte[] checkJson(long handle, byte[] request)`: the 3101 pre-alert call
/// (`medaudit_check_json`).
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_checkJson<'e>(
    mut env: JNIEnv<'e>,
    _c: JClass<'e>,
    h: jlong,
    request: JByteArray<'e>,
) -> jbyteArray {
    entry(&mut env, "checkJson", std::ptr::null_mut(), |env| {
        let eng = engine::lookup(handle(h))?;
        let req = bytes(env, &request, "request")?;
        let answer = crate::prealert::check(&eng, text::utf8(&req, "request")?)?;
        give(env, &answer)
    })
}

/// `static native byte[] checkClaimsJson(long handle, byte[] claims, byte[] optionsOrNull)`: the
/// claims-JSON call (`medaudit_check_claims_json`).
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_checkClaimsJson<'e>(
    mut env: JNIEnv<'e>,
    _c: JClass<'e>,
    h: jlong,
    claims: JByteArray<'e>,
    options: JByteArray<'e>,
) -> jbyteArray {
    entry(&mut env, "checkClaimsJson", std::ptr::null_mut(), |env| {
        let eng = engine::lookup(handle(h))?;
        let claims_bytes = bytes(env, &claims, "claims_json")?;
        let options_bytes = opt_bytes(env, &options, "options_json")?;
        let options_text = match &options_bytes {
            Some(o) => Some(text::utf8(o, "options_json")?),
            None => None,
        };
        let answer = crate::check_claims_text(&eng, text::utf8(&claims_bytes, "claims_json")?, options_text)?;
        give(env, &answer)
    })
}

/// `static native void checkArrow(long handle, long fee, long mdtrt, long diagnoses, long
/// operations, byte[] optionsOrNull, long out)`: the batch call (`medaudit_check_arrow`) on
/// Arrow C streams given by address (0 for "none"), as exported by Arrow Java's C Data Interface
/// (`org.apache.arrow.c.ArrowArrayStream#memoryAddress`). The input streams are taken and
/// released whatever the outcome; on success `out` holds the findings stream.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_medaudit_Native_checkArrow<'e>(
    mut env: JNIEnv<'e>,
    _c: JClass<'e>,
    h: jlong,
    fee: jlong,
    mdtrt: jlong,
    diagnoses: jlong,
    operations: jlong,
    options: JByteArray<'e>,
    out: jlong,
) {
    entry(&mut env, "checkArrow", (), |env| {
        let stream = |a: jlong| a as usize as *mut FFI_ArrowArrayStream;
        let options_bytes = match opt_bytes(env, &options, "options_json") {
            Ok(o) => o,
            Err(e) => {
                // The inputs are ours to release on every path, as in the C call.
                for p in [fee, mdtrt, diagnoses, operations] {
                    // SAFETY: each address is 0 or a valid exported stream handed over by the
                    // package-private Java caller (org.medaudit.Engine#checkArrow).
                    drop(unsafe { crate::arrow::take_stream(stream(p)) });
                }
                return Err(e);
            }
        };
        let options_c = match options_bytes {
            Some(o) => Some(CString::new(o).map_err(|_| FfiError::arg("options_json: holds a NUL character"))?),
            None => None,
        };
        let options_ptr = options_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: the stream addresses are 0 or valid `ArrowArrayStream`s (inputs handed over,
        // `out` writable) allocated by the Java caller, which keeps them alive for the call;
        // `options_ptr` is NULL or a NUL-terminated string that outlives the call.
        let st = unsafe {
            crate::medaudit_check_arrow(
                handle(h),
                stream(fee),
                stream(mdtrt),
                stream(diagnoses),
                stream(operations),
                options_ptr,
                stream(out),
            )
        };
        from_status(st)
    })
}

/// `static native boolean claimsJsonToArrow(byte[] claims, byte[] table, long out)`: one table
/// of claims JSON as an Arrow C stream (`medaudit_claims_json_to_arrow`) written to `out`, an
/// `ArrowArrayStream` allocated by the Java caller; false when the document has no such table
/// (then `out` is left released).
#[no_mangle]
pub extern "system" fn Java_org_medaudit_Native_claimsJsonToArrow<'e>(
    mut env: JNIEnv<'e>,
    _c: JClass<'e>,
    claims: JByteArray<'e>,
    table: JByteArray<'e>,
    out: jlong,
) -> jboolean {
    entry(&mut env, "claimsJsonToArrow", JNI_FALSE, |env| {
        let claims_bytes = bytes(env, &claims, "claims_json")?;
        let table_c =
            CString::new(bytes(env, &table, "table")?).map_err(|_| FfiError::arg("table: holds a NUL character"))?;
        if out == 0 {
            return Err(FfiError::null("out"));
        }
        let out = out as usize as *mut FFI_ArrowArrayStream;
        // SAFETY: `claims_bytes` is `len` readable bytes alive for the call, `table_c` is
        // NUL-terminated, and `out` is a writable `ArrowArrayStream` allocated by the
        // package-private Java caller (org.medaudit.ArrowCheck), alive for the call.
        let st = unsafe {
            crate::medaudit_claims_json_to_arrow(
                claims_bytes.as_ptr().cast(),
                claims_bytes.len(),
                table_c.as_ptr(),
                out,
            )
        };
        from_status(st)?;
        // SAFETY: as above, `out` is valid for reads; the call left it initialised.
        let present = unsafe { (*out).release().is_some() };
        Ok(if present { JNI_TRUE } else { JNI_FALSE })
    })
}

/// The result of a C ABI call made from here: its status with the thread's last error.
fn from_status(st: MedauditStatus) -> FfiResult<()> {
    if st == MedauditStatus::MEDAUDIT_OK {
        return Ok(());
    }
    // SAFETY: both functions return valid NUL-terminated strings, alive until this thread's
    // next call into the library; they are copied at once.
    let (kind, message) = unsafe {
        (
            CStr::from_ptr(status::last_error_kind_ptr()).to_string_lossy().into_owned(),
            CStr::from_ptr(status::last_error_ptr()).to_string_lossy().into_owned(),
        )
    };
    let mut e = FfiError::new(st, message);
    e.kind = status::static_kind(&kind);
    Err(e)
}
