#!/bin/sh
# Runs INSIDE the Debian 11 build root (scripts/package chroots into it): compiles SQLite and
# CPython from Debian's sources into /opt/python, every C file with glibc-2.28.h force-included
# and with no glibc function newer than 2.28 used, so the interpreter needs glibc 2.28 at most.
#   build-python.sh SRC_DIR   (SRC_DIR holds python3.11_*.orig.tar.gz, its debian.tar.xz and
#                              sqlite3_*.orig.tar.xz, fetched on the host by apt-get source)
set -eu
step() { echo "== $(date +%T) $*"; }
SRC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=$(nproc)
COMPAT="-include $HERE/glibc-2.28.h"
WORK=/tmp/pybuild
rm -rf "$WORK" /opt/python /opt/sqlite
mkdir -p "$WORK"

step SQLite
# SQLite 3.40.1 (Debian 12's, the one development and the tests use) with Debian's compile
# options, so the shipped app behaves as tested (FTS5 trigram, 250,000 bound variables, ...).
# Static: nothing of it is looked up on the host, and _sqlite3 carries it.
cd "$WORK"
tar xJf "$SRC"/sqlite3_*.orig.tar.xz
cd sqlite3-*/ 2>/dev/null || cd sqlite*/
SQLITE_FLAGS="-DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_FTS3
 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1
 -DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB
 -DSQLITE_ALLOW_ROWID_IN_VIEW -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 -DSQLITE_ENABLE_JSON1
 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_THREADSAFE=1 -DSQLITE_USE_URI=1
 -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_STMTVTAB -DSQLITE_MAX_VARIABLE_NUMBER=250000
 -DSQLITE_DEFAULT_RECURSIVE_TRIGGERS -DSQLITE_ENABLE_MATH_FUNCTIONS"
./configure --prefix=/opt/sqlite --disable-shared --enable-static --disable-tcl --disable-readline \
  --enable-fts4 --enable-fts5 --enable-json --enable-rtree --enable-threadsafe \
  CFLAGS="-O2 -fPIC -fno-strict-aliasing $COMPAT $(echo $SQLITE_FLAGS)" >/dev/null
make -j"$JOBS" libsqlite3.la >/dev/null
make install-libLTLIBRARIES install-includeHEADERS >/dev/null 2>&1 || true
mkdir -p /opt/sqlite/lib /opt/sqlite/include
cp .libs/libsqlite3.a /opt/sqlite/lib/
cp sqlite3.h sqlite3ext.h /opt/sqlite/include/

step CPython
# CPython 3.11 from Debian's upstream tarball, with Debian's security fixes applied.
cd "$WORK"
tar xzf "$SRC"/python3.11_*.orig.tar.gz
mkdir debian-patches && tar xJf "$SRC"/python3.11_*.debian.tar.xz -C debian-patches
cd Python-3.11*/
grep -E '^(CVE-|[0-9]{4}-3\.11-|relfile-)' ../debian-patches/debian/patches/series | while read -r p; do
  patch -p1 -s --forward < "../debian-patches/debian/patches/$p" || { echo "patch $p failed" >&2; exit 1; }
done
# Debian builds pyexpat with the interpreter's internal headers, which one backported fix
# now includes: the out-of-tree module needs the define Debian's build passes.
grep -q Py_BUILD_CORE_MODULE Modules/pyexpat.c || sed -i '1i #ifndef Py_BUILD_CORE_MODULE\n#  define Py_BUILD_CORE_MODULE 1\n#endif' Modules/pyexpat.c
# Functions glibc added after 2.28 are declared unavailable: sem_clockwait (2.30) and
# posix_spawn_file_actions_addchdir_np (2.29) have older fallbacks in CPython.
ac_cv_func_sem_clockwait=no ac_cv_func_posix_spawn_file_actions_addchdir_np=no \
ac_cv_func_pthread_cond_clockwait=no ac_cv_func_pthread_mutex_clocklock=no \
LIBSQLITE3_CFLAGS="-I/opt/sqlite/include" LIBSQLITE3_LIBS="-L/opt/sqlite/lib -lsqlite3 -lm" LIBS=-lm \
./configure --prefix=/opt/python --enable-shared --with-ensurepip=install --without-readline \
  --disable-test-modules \
  CFLAGS="$COMPAT" LDFLAGS="-Wl,-rpath,/opt/python/lib" >/dev/null
step make
make -j"$JOBS" >/dev/null 2>make-warnings.log || { tail -50 make-warnings.log; exit 1; }
step install
make install COMPILEALL_OPTS=-j0 >make-install.log 2>&1 || { tail -30 make-install.log; exit 1; }
rm -rf /opt/python/lib/python3.11/test /opt/python/lib/python3.11/idlelib /opt/python/lib/python3.11/tkinter
/opt/python/bin/python3.11 -c "import sqlite3, hashlib, ssl, lzma, bz2, zlib, ctypes; print('python', sqlite3.sqlite_version, hashlib.scrypt)"
