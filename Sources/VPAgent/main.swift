print("vp-agent")
