// The regular file was collected; the planted link was not followed, and the log says why.
def log = new File(basedir, 'build.log').text
assert log.contains('made')
assert new File(basedir, 'target/collected/reports/a.txt').text == 'ok\n'
assert !new File(basedir, 'target/collected/reports/passwd.txt').exists()
assert log =~ /stockade: not collected: reports\/passwd\.txt \(/
assert log.contains('stockade: collected 1 file (3 bytes) into ' + new File(basedir, 'target/collected').path + '; 1 not collected')
return true
