// Package plot draws training curves and confusion-matrix heat maps as PNG
// files with gonum.org/v1/plot. Files are written atomically (a temporary
// file in the same directory, then renamed).
package plot
