package annotate

// Likelihood values, Cloud Vision's enum, least likely first.
const (
	Unknown      = "UNKNOWN"
	VeryUnlikely = "VERY_UNLIKELY"
	Unlikely     = "UNLIKELY"
	Possible     = "POSSIBLE"
	Likely       = "LIKELY"
	VeryLikely   = "VERY_LIKELY"
)

// Likelihoods are Cloud Vision's likelihood values, least likely first.
var Likelihoods = []string{Unknown, VeryUnlikely, Unlikely, Possible, Likely, VeryLikely}

// Likelihood maps a probability to a likelihood name: below 0.2
// VERY_UNLIKELY, below 0.4 UNLIKELY, below 0.6 POSSIBLE, below 0.8 LIKELY,
// else VERY_LIKELY (equal fifths of [0,1]). Cloud Vision publishes no
// thresholds; equal fifths say no more than the probability does.
func Likelihood(p float64) string {
	switch {
	case p < 0.2:
		return VeryUnlikely
	case p < 0.4:
		return Unlikely
	case p < 0.6:
		return Possible
	case p < 0.8:
		return Likely
	default:
		return VeryLikely
	}
}
