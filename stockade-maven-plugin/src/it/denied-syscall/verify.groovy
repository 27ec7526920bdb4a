// The call failed inside with EPERM, the step went on, and the build log names what was denied.
def log = new File(basedir, 'build.log').text
assert log.contains('ptrace: -1 Operation not permitted')
assert log.contains('stockade: python3: exit status 0')
assert log =~ /stockade: denied ptrace x1 \(build profile: [^)]+/
return true
