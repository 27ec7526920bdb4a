// The step ran (its first line is in the log) and was killed by its CPU time limit, which the
// build's failure names.
def log = new File(basedir, 'build.log').text
assert log.contains('spinning')
assert log.contains('stockade: killed: CPU time limit 1s reached')
assert log.contains('stockade: sh failed: killed: CPU time limit 1s reached')
return true
