// Package pretrained is the registry of ready-trained models dlcv can run:
// their names, public source URLs, SHA-256 checksums, licences and input
// sizes, and a local cache ($DLCV_HOME, default <user cache dir>/dlcv)
// that Pull fills with checksum-verified, atomically written downloads.
// Nothing is fetched implicitly: Resolve reports how to get a missing model.
package pretrained
