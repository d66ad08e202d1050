// Package train fits nn models: the epoch loop over shuffled batches,
// validation, the History of each epoch, callbacks (checkpoint, early
// stopping, learning-rate schedules), a progress display, and resuming
// from a checkpoint with the same result as an uninterrupted run.
//
// Determinism: every epoch draws its shuffle and dropout masks from
// generators seeded by (seed, epoch), so epoch e is the same whether the run
// started at epoch 0 or resumed from a checkpoint written after epoch e-1.
package train
