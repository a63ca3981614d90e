"""Metadata of the five sources: name, citation, homepage, licence, redistribution flags and Table 3 counts.

`redistributable_captions` / `redistributable_images` say whether MonoIR-RS may ship the source's original text /
RGB images. The RSICD, RSITMD and NWPU-Captions releases state no licence for their captions (research use by
custom), so their captions are marked not redistributable, as in the FusionRS release; no source's RGB images
are redistributed (the IR release ships synthesized infrared only; "the source imagery inherits the licenses of
its original collections", paper §5.5). `table3` is the paper's Table 3 (IR images per split).
"""

from __future__ import annotations

SOURCE_INFO: dict[str, dict] = {
    "rs5m": {
        "name": "RS5M",
        "full_name": "RS5M: a large-scale vision-language dataset for remote sensing",
        "homepage": "https://github.com/om-ai-lab/RS5M",
        "data_url": "https://huggingface.co/datasets/Zilun/RS5M",
        "license": "CC BY-NC 4.0 (dataset card); images come from web image-text corpora (LAION, COYO, ...) "
                   "and label-only RS datasets under their own terms",
        "redistributable_captions": True,
        "redistributable_images": False,
        "citation": """@article{zhang2024rs5m,
  title={RS5M and GeoRSCLIP: A Large-Scale Vision-Language Dataset and a Large Vision-Language Model for Remote Sensing},
  author={Zhang, Zilun and Zhao, Tiancheng and Guo, Yulong and Yin, Jianwei},
  journal={IEEE Transactions on Geoscience and Remote Sensing},
  volume={62},
  pages={1--23},
  year={2024}
}""",
        "table3": {"total": 488033, "train": 471729, "validation": 8166, "test": 8138},
    },
    "skyscript": {
        "name": "SkyScript",
        "full_name": "SkyScript: a large and semantically diverse vision-language dataset for remote sensing",
        "homepage": "https://github.com/wangzhecheng/SkyScript",
        "data_url": "https://opendatasharing.s3.us-west-2.amazonaws.com/SkyScript/",
        "license": "captions assembled from OpenStreetMap tags (ODbL 1.0); images from Google Earth Engine "
                   "collections under their providers' terms",
        "redistributable_captions": True,
        "redistributable_images": False,
        "citation": """@inproceedings{wang2024skyscript,
  title={SkyScript: A Large and Semantically Diverse Vision-Language Dataset for Remote Sensing},
  author={Wang, Zhecheng and Prabha, Rajanie and Huang, Tianyuan and Wu, Jiajun and Rajagopal, Ram},
  booktitle={Proceedings of the AAAI Conference on Artificial Intelligence},
  volume={38},
  pages={5805--5813},
  year={2024}
}""",
        "table3": {"total": 65266, "train": 63134, "validation": 1036, "test": 1096},
    },
    "nwpu": {
        "name": "NWPU-Captions",
        "full_name": "NWPU-Captions (captions of the NWPU-RESISC45 scene-classification images)",
        "homepage": "https://github.com/HaiyanHuang98/NWPU-Captions",
        "data_url": "https://github.com/HaiyanHuang98/NWPU-Captions",
        "license": "not stated by the release (research use); images from NWPU-RESISC45",
        "redistributable_captions": False,
        "redistributable_images": False,
        "citation": """@article{cheng2017remote,
  title={Remote Sensing Image Scene Classification: Benchmark and State of the Art},
  author={Cheng, Gong and Han, Junwei and Lu, Xiaoqiang},
  journal={Proceedings of the IEEE},
  volume={105},
  number={10},
  pages={1865--1883},
  year={2017}
}
@article{cheng2022nwpucaptions,
  title={NWPU-Captions Dataset and MLCA-Net for Remote Sensing Image Captioning},
  author={Cheng, Qimin and Huang, Haiyan and Xu, Yuan and Zhou, Yuzhuo and Li, Huanying and Wang, Zhongyuan},
  journal={IEEE Transactions on Geoscience and Remote Sensing},
  volume={60},
  pages={1--19},
  year={2022}
}""",
        "table3": {"total": 31186, "train": 30122, "validation": 549, "test": 515},
    },
    "rsicd": {
        "name": "RSICD",
        "full_name": "Remote Sensing Image Captioning Dataset",
        "homepage": "https://github.com/201528014227051/RSICD_optimal",
        "data_url": "https://github.com/201528014227051/RSICD_optimal",
        "license": "not stated by the release (research use)",
        "redistributable_captions": False,
        "redistributable_images": False,
        "citation": """@article{lu2017exploring,
  title={Exploring Models and Data for Remote Sensing Image Caption Generation},
  author={Lu, Xiaoqiang and Wang, Binqiang and Zheng, Xiangtao and Li, Xuelong},
  journal={IEEE Transactions on Geoscience and Remote Sensing},
  volume={56},
  number={4},
  pages={2183--2195},
  year={2017}
}""",
        "table3": {"total": 10824, "train": 10494, "validation": 166, "test": 164},
    },
    "rsitmd": {
        "name": "RSITMD",
        "full_name": "Remote Sensing Image-Text Match Dataset",
        "homepage": "https://github.com/xiaoyuan1996/AMFMN/tree/master/RSITMD",
        "data_url": "https://github.com/xiaoyuan1996/AMFMN/tree/master/RSITMD",
        "license": "not stated by the release (research use)",
        "redistributable_captions": False,
        "redistributable_images": False,
        "citation": """@article{yuan2022exploring,
  title={Exploring a Fine-Grained Multiscale Method for Cross-Modal Remote Sensing Image Retrieval},
  author={Yuan, Zhiqiang and Zhang, Wenkai and Fu, Kun and Li, Xuan and Deng, Chubo and Wang, Hongqi and Sun, Xian},
  journal={IEEE Transactions on Geoscience and Remote Sensing},
  volume={60},
  pages={1--19},
  year={2022}
}""",
        "table3": {"total": 4691, "train": 4521, "validation": 83, "test": 87},
    },
}

TABLE3_TOTAL = {"total": 600000, "train": 580000, "validation": 10000, "test": 10000}


def citation_bibtex(sources=None) -> str:
    """The BibTeX entries of the given sources (all five by default), for dataset cards."""
    return "\n".join(SOURCE_INFO[s]["citation"] for s in (sources or SOURCE_INFO))
