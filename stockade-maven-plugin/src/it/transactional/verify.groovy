// The first step's change was applied (it exited 0); the second's were not (it exited 3): the
// file has the first step's content and the POM the second step deleted is still there.
def log = new File(basedir, 'build.log').text
assert log.contains('bumped')
assert log.contains('stockade: sh failed: exit status 3')
assert new File(basedir, 'src/version.txt').text == 'version 2\n'
assert new File(basedir, 'pom.xml').isFile()
return true
