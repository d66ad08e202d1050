package detect

import "math"

// cvRound rounds half to even, as OpenCV's cvRound does on x86.
func cvRound(v float64) int { return int(math.RoundToEven(v)) }

func roundEven(v float64) float64 { return math.RoundToEven(v) }

func floorF(v float64) float64 { return math.Floor(v) }
