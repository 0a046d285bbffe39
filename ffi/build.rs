//! Writes `medaudit.pc` (pkg-config) next to the built library, e.g. `target/debug/medaudit.pc`,
//! describing the uninstalled build: headers from `include/`, libraries from the profile
//! directory. `bash ffi/scripts/install.sh PREFIX` installs the library with a `.pc` for PREFIX.
//! Failing to write it never fails the build.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else { return };
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out (or <target>/<triple>/<profile>/…).
    let Some(profile_dir) = out_dir.ancestors().nth(3).map(PathBuf::from) else { return };
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let include = manifest.parent().map(|p| p.join("include")).unwrap_or_default();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let pc = format!(
        "# pkg-config file for the uninstalled libmedaudit build in this directory.\n\
         libdir={libdir}\n\
         includedir={includedir}\n\
         \n\
         Name: medaudit\n\
         Description: medaudit: China's national medical-insurance supervision rules over Apache Arrow (C ABI)\n\
         Version: {version}\n\
         Libs: -L${{libdir}} -Wl,-rpath,${{libdir}} -lmedaudit\n\
         Libs.private: -lpthread -ldl -lm -lrt -lutil -lgcc_s\n\
         Cflags: -I${{includedir}}\n",
        libdir = profile_dir.display(),
        includedir = include.display(),
    );
    let _ = std::fs::write(profile_dir.join("medaudit.pc"), pc);
}
