package focus

// Exported for the tests of package focus_test.
var (
	ParseMicros = parseMicros
	TagValue    = tagValue
)
