// One line naming the parameter and the value, and the command never ran.
def log = new File(basedir, 'build.log').text
assert log.contains("stockade: <limits/memory>: 'lots' is not a size")
assert !new File(basedir, 'target/ran').exists()
return true
