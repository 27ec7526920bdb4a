def log = new File(basedir, 'build.log').text
assert log.contains('stockade: skipped (stockade.skip)')
assert !log.contains('stockade: false')
return true
