package optim

import "math"

// Schedules map a zero-based epoch index to a learning rate; the training
// loop calls one before each epoch and passes the result to
// Optimizer.SetLearningRate.

// StepDecay multiplies initial by factor every `every` epochs:
// lr = initial * factor^floor(epoch/every). every <= 0 means never.
func StepDecay(initial, factor float64, every int) func(epoch int) float64 {
	return func(epoch int) float64 {
		if every <= 0 || epoch < 0 {
			return initial
		}
		return initial * math.Pow(factor, float64(epoch/every))
	}
}

// PolynomialDecay falls from initial to 0 over maxEpochs:
// lr = initial * (1 - epoch/maxEpochs)^power, and 0 from maxEpochs on.
// power 1 is a linear decay.
func PolynomialDecay(initial float64, maxEpochs int, power float64) func(epoch int) float64 {
	return func(epoch int) float64 {
		if maxEpochs <= 0 {
			return initial
		}
		e := min(max(epoch, 0), maxEpochs)
		return initial * math.Pow(1-float64(e)/float64(maxEpochs), power)
	}
}
