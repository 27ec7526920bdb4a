// The probe's table, then a start of the configured sandbox.
def log = new File(basedir, 'build.log').text
assert log =~ /stockade: user_namespace +yes/
assert log.contains('stockade: the configured sandbox runs here')
return true
