// Both modules' steps ran, each wrote its own target/, and neither saw the other module.
def log = new File(basedir, 'build.log').text
['alpha': 'beta', 'beta': 'alpha'].each { module, other ->
    assert new File(basedir, "${module}/target/stamp.txt").text == "${module}\n"
    assert log.contains("${module} does not see ${other}")
}
assert log.count('stockade: sh: exit status 0') == 2
return true
