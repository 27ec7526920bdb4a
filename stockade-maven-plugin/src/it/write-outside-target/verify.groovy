// Reading the sources and writing target/ worked; appending to a source file did not, and the
// file is as it was.
def log = new File(basedir, 'build.log').text
assert log.contains('copied')
assert new File(basedir, 'target/copied.txt').text == 'original\n'
// A root caller's sandbox user (uid 65534) is refused by the file's permissions first; the
// file's owner is refused by the read-only mount.
def refusal = System.getProperty('user.name') == 'root' ? 'Permission denied' : 'Read-only file system'
assert log.contains("cannot create src/input.txt: ${refusal}")
assert new File(basedir, 'src/input.txt').text == 'original\n'
assert log.contains('stockade: sh failed: exit status ')
return true
